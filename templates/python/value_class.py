@{{ class.decorator }}(frozen=True)
class {{ class.name }}:
    {{ class.docstring }}
{%- let fields = class.fields.as_slice() %}
{%- include "python/class_fields.py" %}

    def to_wire(self) -> {{ class.wire_annotation }}:
        """The wire form; TypeError or ValueError (naming the field) if a field does not fit."""
{%- if let Some(writer) = class.writer %}
        {{ writer }}
{%- endif %}
        return {{ class.to_wire }}
{%- if let Some(from_wire) = class.from_wire %}

    @{{ from_wire.staticmethod }}
    def from_wire(wire: {{ from_wire.object }}) -> {{ class.name }}:
        """Reads a ``{{ class.name }}`` from its wire form (ProtocolError if it does not match)."""
        {{ from_wire.reader }}
        return {{ from_wire.constructor }}
{%- endif %}
