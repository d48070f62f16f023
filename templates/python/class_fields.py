{%- if !fields.is_empty() %}
{% for field in fields %}
    {{ field.attribute }}: {{ field.annotation }}
{%- if let Some(doc) = field.docstring %}
    {{ doc }}
{%- endif %}
{%- endfor %}
{%- endif %}
