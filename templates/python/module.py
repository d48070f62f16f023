{{ module.docstring }}

from __future__ import annotations
{%- if !module.imports.is_empty() %}

{{ module.imports|join("\n") }}
{%- endif %}
{%- for item in module.items %}
{%- match item %}
{%- when Item::Struct(class) %}


{% include "python/value_class.py" %}
{%- when Item::UnitEnum(enumeration) %}


class {{ enumeration.name }}({{ enumeration.base }}):
    {{ enumeration.docstring }}
{% for member in enumeration.members %}
    {{ member.name }} = {{ member.value }}
{%- if let Some(doc) = member.docstring %}
    {{ doc }}
{%- endif %}
{%- endfor %}
{%- when Item::DataEnum(enumeration) %}
{%- for class in enumeration.variants %}


{% include "python/value_class.py" %}
{%- endfor %}


{{ enumeration.alias }} = {{ enumeration.union }}
{{ enumeration.docstring }}


{{ enumeration.decoder_def }}
    {{ enumeration.decoder_docstring }}
    {{ enumeration.reader }}
{%- for case in enumeration.cases %}
    if variant.name == {{ case.wire_name }}:
{%- for statement in case.statements %}
        {{ statement }}
{%- endfor %}
{%- endfor %}
    raise variant.unknown()
{%- when Item::Error(error) %}


class {{ error.name }}(_rt.RemoteError):
    {{ error.docstring }}
{%- let fields = error.fields.as_slice() %}
{%- include "python/class_fields.py" %}

    {{ error.init_def }}
        _rt.RemoteError.__init__(self, {{ error.wire_name }}, message, traceback)
{%- for field in error.fields %}
        self.{{ field.attribute }} = {{ field.attribute }}
{%- endfor %}

    @{{ error.staticmethod }}
    def from_remote(error: _rt.RemoteError) -> {{ error.name }}:
        """Reads this error from a server's ``ERR`` (ProtocolError if it does not carry one)."""
        {{ error.reader }}
        return {{ error.constructor }}
{%- endmatch %}
{%- endfor %}
{%- for client in module.clients %}


class {{ client.name }}:
    {{ client.docstring }}

    {{ client.init_def }}
{%- if let Some(warning) = client.deprecation %}
        _rv.warn_deprecated({{ warning }})
{%- endif %}
        self._client = _rt.Client(
            endpoint,
            heartbeat=heartbeat,
            timeout=timeout,
            request_header=request_header,
            after_request=after_request,
            max_message_size=max_message_size,
        )

    @{{ client.property }}
    def endpoint(self) -> {{ client.str }}:
        """The ZeroMQ endpoint this client is connected to."""
        return self._client.endpoint

    def close(self) -> None:
        """Fails pending calls with ClientClosed, stops the I/O thread and closes the socket."""
        self._client.close()

    def __enter__(self) -> {{ client.name }}:
        return self

    def __exit__(self, *exc_info: {{ client.object }}) -> None:
        self.close()
{%- for method in client.methods %}

    {{ method.sync_def }}
        {{ method.docstring }}
{%- if let Some(warning) = method.deprecation %}
        _rv.warn_deprecated({{ warning }})
{%- endif %}
        {{ method.sync_call }}
{%- endfor %}


class {{ client.async_name }}:
    {{ client.async_docstring }}

    {{ client.init_def }}
{%- if let Some(warning) = client.deprecation %}
        _rv.warn_deprecated({{ warning }})
{%- endif %}
        self._client = _rt.AsyncClient(
            endpoint,
            heartbeat=heartbeat,
            timeout=timeout,
            request_header=request_header,
            after_request=after_request,
            max_message_size=max_message_size,
        )

    @{{ client.property }}
    def endpoint(self) -> {{ client.str }}:
        """The ZeroMQ endpoint this client is connected to."""
        return self._client.endpoint

    async def close(self) -> None:
        """Fails pending calls with ClientClosed, stops the I/O thread and closes the socket."""
        await self._client.close()

    async def __aenter__(self) -> {{ client.async_name }}:
        return self

    async def __aexit__(self, *exc_info: {{ client.object }}) -> None:
        await self.close()
{%- for method in client.methods %}

    {{ method.async_def }}
        {{ method.docstring }}
{%- if let Some(warning) = method.deprecation %}
        _rv.warn_deprecated({{ warning }})
{%- endif %}
        {{ method.async_call }}
{%- endfor %}
{%- endfor %}
{%- if !module.constants.is_empty() %}

{% for constant in module.constants %}
{{ constant.name }} = {{ constant.value }}
{%- endfor %}
{%- endif %}

