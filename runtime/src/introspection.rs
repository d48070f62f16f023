//! zerorpc's built-in introspection methods, answered from what the service registered.
//!
//! `_zerorpc_ping`, `_zerorpc_name`, `_zerorpc_list`, `_zerorpc_help`, `_zerorpc_args` and
//! `_zerorpc_inspect` answer in the shapes zerorpc-python's CLI reads. `_zerorpc_inspect` uses the
//! "generic" shape (`{name, methods: {m: {args: [{name, default}], doc}}}`, no `self`, `default`
//! nil for the optional parameters a call may leave out) and adds what
//! zerorpc has no room for: the service's `doc`, each parameter's `doc` and `type`, a method's
//! `returns` and `stream: true` for streaming methods. Untyped peers ignore the extra keys.

use rmpv::Value;

use crate::error::RemoteError;
use crate::service::{MethodInfo, MethodKind, Service};

/// Answers a built-in method, or `None` when `method` is not one. `args` is the request's
/// arguments as MessagePack.
pub(crate) fn answer(
    service: &Service,
    method: &str,
    args: &[u8],
) -> Option<Result<Value, RemoteError>> {
    let answer = match method {
        "_zerorpc_ping" => Ok(Value::Array(vec![
            Value::from("pong"),
            Value::from(service.name()),
        ])),
        "_zerorpc_name" => Ok(Value::from(service.name())),
        "_zerorpc_list" => Ok(Value::Array(
            service
                .methods()
                .map(|info| Value::from(info.name.as_str()))
                .collect(),
        )),
        "_zerorpc_help" => named_method(service, method, args)
            .map(|info| info.doc.as_deref().map_or(Value::Nil, Value::from)),
        "_zerorpc_args" => named_method(service, method, args).map(|info| {
            let names = info
                .params
                .iter()
                .map(|param| Value::from(param.name.as_str()));
            // Like `getargspec`: the defaults of the parameters a call may leave out, or nil.
            let omittable = info.params.len() - info.required_params();
            let defaults = match omittable {
                0 => Value::Nil,
                count => Value::Array(vec![Value::Nil; count]),
            };
            Value::Array(vec![
                Value::Array(names.collect()),
                Value::Nil,
                Value::Nil,
                defaults,
            ])
        }),
        "_zerorpc_inspect" => Ok(inspect(service)),
        _ => return None,
    };
    Some(answer)
}

fn named_method<'a>(
    service: &'a Service,
    builtin: &str,
    mut args: &[u8],
) -> Result<&'a MethodInfo, RemoteError> {
    let args = crate::value::read_value(&mut args).unwrap_or(Value::Nil);
    let name = match args.as_array().map(Vec::as_slice) {
        Some([name]) => name.as_str(),
        _ => None,
    }
    .ok_or_else(|| {
        RemoteError::type_error(format!("`{builtin}` takes one argument: a method name"))
    })?;
    service
        .methods()
        .find(|info| info.name == name)
        .ok_or_else(|| {
            RemoteError::new(
                "KeyError",
                format!("service `{}` has no method `{name}`", service.name()),
            )
        })
}

fn entry(key: &str, value: Value) -> (Value, Value) {
    (Value::from(key), value)
}

fn optional_text(text: Option<&str>) -> Value {
    text.map_or(Value::Nil, Value::from)
}

fn inspect(service: &Service) -> Value {
    let methods = service.methods().map(|info| {
        let required = info.required_params();
        let args = info.params.iter().enumerate().map(|(index, param)| {
            let mut fields = vec![entry("name", Value::from(param.name.as_str()))];
            if index >= required {
                // A call may leave it out: zerorpc's shape for a parameter with a default.
                fields.push(entry("default", Value::Nil));
            }
            if let Some(doc) = &param.doc {
                fields.push(entry("doc", Value::from(doc.as_str())));
            }
            if let Some(type_name) = &param.type_name {
                fields.push(entry("type", Value::from(type_name.as_str())));
            }
            Value::Map(fields)
        });
        let mut fields = vec![
            entry("args", Value::Array(args.collect())),
            entry("doc", optional_text(info.doc.as_deref())),
        ];
        if let Some(returns) = &info.returns {
            fields.push(entry("returns", Value::from(returns.as_str())));
        }
        if info.kind == MethodKind::Stream {
            fields.push(entry("stream", Value::Boolean(true)));
        }
        (Value::from(info.name.as_str()), Value::Map(fields))
    });
    Value::Map(vec![
        entry("name", Value::from(service.name())),
        entry("doc", optional_text(service.documentation())),
        entry("methods", Value::Map(methods.collect())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ParamInfo;

    fn service() -> Service {
        Service::new("Shop")
            .doc("Sells things.")
            .blocking(
                MethodInfo::new("buy")
                    .doc("Buys one item.")
                    .param_info(
                        ParamInfo::new("item")
                            .doc("What to buy.")
                            .type_name("string"),
                    )
                    .param("count")
                    .param_info(ParamInfo::new("note").optional())
                    .returns("u64"),
                |_| Ok(0),
            )
            .stream(MethodInfo::new("browse"), |_| async {
                Ok(futures::stream::empty::<Result<u8, RemoteError>>())
            })
    }

    fn call(method: &str, args: Value) -> Result<Value, RemoteError> {
        let mut encoded = Vec::new();
        rmpv::encode::write_value(&mut encoded, &args).unwrap();
        answer(&service(), method, &encoded).expect("a built-in")
    }

    #[test]
    fn ping_name_and_list() {
        let none = Value::Array(vec![]);
        assert_eq!(
            call("_zerorpc_ping", none.clone()).unwrap().to_string(),
            "[\"pong\", \"Shop\"]"
        );
        assert_eq!(
            call("_zerorpc_name", none.clone()).unwrap(),
            Value::from("Shop")
        );
        assert_eq!(
            call("_zerorpc_list", none).unwrap().to_string(),
            "[\"browse\", \"buy\"]"
        );
        assert!(answer(&service(), "buy", &[0x90]).is_none());
    }

    #[test]
    fn help_and_args_name_a_method() {
        let buy = Value::Array(vec![Value::from("buy")]);
        assert_eq!(
            call("_zerorpc_help", buy.clone()).unwrap(),
            Value::from("Buys one item.")
        );
        let browse = Value::Array(vec![Value::from("browse")]);
        assert_eq!(call("_zerorpc_help", browse).unwrap(), Value::Nil);
        assert_eq!(
            call("_zerorpc_args", buy).unwrap().to_string(),
            "[[\"item\", \"count\", \"note\"], nil, nil, [nil]]"
        );
        let browse = Value::Array(vec![Value::from("browse")]);
        assert_eq!(
            call("_zerorpc_args", browse).unwrap().to_string(),
            "[[], nil, nil, nil]"
        );
        let error = call("_zerorpc_help", Value::Array(vec![Value::from("x")])).unwrap_err();
        assert_eq!(error.name, "KeyError");
        assert_eq!(error.message, "service `Shop` has no method `x`");
        let error = call("_zerorpc_args", Value::Array(vec![])).unwrap_err();
        assert_eq!(error.name, "TypeError");
    }

    #[test]
    fn inspect_has_the_generic_shape_plus_types() {
        let inspected = call("_zerorpc_inspect", Value::Array(vec![])).unwrap();
        assert_eq!(
            inspected.to_string(),
            "{\"name\": \"Shop\", \"doc\": \"Sells things.\", \"methods\": {\
             \"browse\": {\"args\": [], \"doc\": nil, \"stream\": true}, \
             \"buy\": {\"args\": [{\"name\": \"item\", \"doc\": \"What to buy.\", \"type\": \"string\"}, \
             {\"name\": \"count\"}, {\"name\": \"note\", \"default\": nil}], \
             \"doc\": \"Buys one item.\", \"returns\": \"u64\"}}}"
        );
    }
}
