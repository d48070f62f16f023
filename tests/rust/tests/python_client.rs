//! The real zerorpc-python client calls the generated Rust server (the example shop): structs
//! arrive as dicts keyed by field name, enums in their documented forms, declared errors as
//! readable `RemoteError`s carrying the rpcgen fields line, and `_zerorpc_inspect` lists every
//! method with its docs and parameter names.

mod common;

use common::{run_python, start_shop, PYTHON_HEARTBEAT, SHOP_WIRE_METHODS};
use serde_json::{json, Value};

#[tokio::test]
async fn zerorpc_python_calls_the_generated_server() {
    let server = start_shop(PYTHON_HEARTBEAT).await;
    let output = run_python("python/call_shop.py", &[server.endpoint()]).await;
    let results: Value = serde_json::from_str(&output)
        .unwrap_or_else(|error| panic!("call_shop.py printed no JSON ({error}): {output}"));

    let printer = json!({
        "id": 1,
        "title": "Printer on fire",
        "body": "Smoke since 9:00.",
        "tags": ["hardware"],
        "priority": "High",
        "attachment": null,
        "extra": {"source": "rpcgen example"},
        "price": {"cents": 4900, "currency": "EUR"},
    });
    assert_eq!(
        results["open"], printer,
        "a struct is a dict keyed by field name"
    );
    assert_eq!(results["open_minimal"]["body"], Value::Null);
    assert_eq!(results["open_minimal"]["price"], Value::Null);
    assert_eq!(results["attach"], Value::Null, "no return type: None");
    let mut attached = printer.clone();
    attached["attachment"] = json!({"$bytes": "0001ff"});
    assert_eq!(results["get"], attached, "bytes travel as bin");
    assert_eq!(results["move"], Value::Null);
    assert_eq!(results["list"].as_array().unwrap().len(), 2);
    assert_eq!(results["list"][0]["id"], 1, "most urgent first");
    assert_eq!(results["list_high"], json!([attached]));
    assert_eq!(
        results["stats"],
        json!({"Low": 1, "High": 1}),
        "unit enums are strings, also as map keys"
    );

    let missing = &results["get_missing"];
    assert_eq!(missing["name"], "NotFound");
    assert_eq!(missing["msg"], "id=999");
    // docs/errors.md: the message, then the fields as base64 MessagePack ({"id": 999}).
    assert_eq!(
        missing["traceback"],
        "NotFound: id=999\nrpcgen-error-fields: gaJpZM0D5w==\n"
    );
    let rejected = &results["open_rejected"];
    assert_eq!(rejected["name"], "Rejected");
    assert_eq!(
        rejected["msg"], "a ticket needs a title",
        "the `message` field is the message"
    );
    let bad_priority = &results["bad_priority"];
    assert_eq!(bad_priority["name"], "TypeError");
    assert!(
        bad_priority["msg"]
            .as_str()
            .unwrap()
            .contains("min_priority"),
        "{bad_priority}"
    );

    assert_eq!(results["close"], Value::Null);
    assert_eq!(
        results["history"],
        json!([
            {"Opened": printer},
            {"Opened": results["open_minimal"]},
            {"Moved": [1, "hardware"]},
            {"Closed": {"id": 1, "reason": "done"}},
        ]),
        "a one-value variant carries its value bare, several values as a list, fields as a dict"
    );
    assert_eq!(results["first"]["id"], 2);

    let inspect = &results["inspect"];
    assert_eq!(inspect["name"], "Tickets");
    let methods = inspect["methods"].as_object().unwrap();
    let mut names: Vec<&str> = methods.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, SHOP_WIRE_METHODS);
    for (name, method) in methods {
        assert!(method["doc"].is_string(), "`{name}` has its docs: {method}");
    }
    let parameters = |method: &str| -> Vec<String> {
        methods[method]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| arg["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(parameters("attach"), ["id", "file"]);
    assert_eq!(parameters("move"), ["id", "queue"]);
    assert_eq!(parameters("ticket_list"), ["min_priority"]);
    assert_eq!(parameters("history"), Vec::<String>::new());
    assert_eq!(
        methods["report"]["doc"],
        "A summary that takes `seconds` to compute: a stand-in for a slow backend."
    );
    server.shutdown().await;
}
