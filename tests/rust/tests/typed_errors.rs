//! Typed errors in every position, with the generated code of `errors.rpc` (an IDL golden file):
//! several declared errors on one method (one from another package), declared errors before and
//! inside a stream, and an undeclared error sent by a handler of a method that declares others.

mod common;

use common::{runtime_client, serve, HEARTBEAT};
use futures::{StreamExt, TryStreamExt};
use rpcgen_e2e::generated::common::Denied;
use rpcgen_e2e::generated::errors::{
    jobs_service, Conflict, Invalid, Jobs, JobsClient, JobsStartError, JobsStopError,
    JobsWatchError, Timeout,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpcgen_runtime::{
    BoxStream, CallError, Client, Middleware, RemoteError, RequestContext, RequestOutcome,
};

/// A job runner whose answers depend on the id or name it is given.
struct Runner;

impl Jobs for Runner {
    async fn start(&self, name: String) -> Result<u64, JobsStartError> {
        match name.as_str() {
            "" => Err(Invalid {
                field: "name".to_string(),
                problem: "empty".to_string(),
            }
            .into()),
            "boom" => Err(RemoteError::new("ValueError", "boom").into()),
            _ => Ok(name.len() as u64),
        }
    }

    async fn stop(&self, id: u64) -> Result<(), JobsStopError> {
        match id {
            1 => Err(Timeout {}.into()),
            #[allow(deprecated)]
            2 => Err(Conflict {
                version: 3,
                current: u64::MAX,
            }
            .into()),
            3 => Err(Denied {
                reason: "read-only".to_string(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    async fn watch(
        &self,
        id: u64,
    ) -> Result<BoxStream<'static, Result<String, JobsWatchError>>, JobsWatchError> {
        if id == 0 {
            return Err(Timeout {}.into());
        }
        let items = vec![
            Ok("queued".to_string()),
            Ok("running".to_string()),
            Err(Timeout {}.into()),
        ];
        Ok(futures::stream::iter(items).boxed())
    }

    async fn ping(&self) -> Result<(), RemoteError> {
        Ok(())
    }
}

#[tokio::test]
async fn declared_errors_arrive_typed_in_every_position() {
    let server = serve(jobs_service(Runner), HEARTBEAT).await;
    let client = JobsClient::from_client(runtime_client(server.endpoint(), HEARTBEAT));

    client.ping().await.unwrap();
    assert_eq!(client.start("build").await.unwrap(), 5);
    assert_eq!(
        client.start("").await.unwrap_err(),
        JobsStartError::Invalid(Invalid {
            field: "name".to_string(),
            problem: "empty".to_string(),
        })
    );
    match client.start("boom").await.unwrap_err() {
        JobsStartError::Call(CallError::Remote { error, .. }) => {
            assert_eq!(error, RemoteError::new("ValueError", "boom"));
        }
        other => panic!("an undeclared error stays untyped, got {other:?}"),
    }

    assert_eq!(
        client.stop(1).await.unwrap_err(),
        JobsStopError::Timeout(Timeout {})
    );
    #[allow(deprecated)]
    let conflict = Conflict {
        version: 3,
        current: u64::MAX,
    };
    assert_eq!(
        client.stop(2).await.unwrap_err(),
        JobsStopError::Conflict(conflict)
    );
    assert_eq!(
        client.stop(3).await.unwrap_err(),
        JobsStopError::Denied(Denied {
            reason: "read-only".to_string()
        })
    );
    client.stop(4).await.unwrap();

    match client.watch(0).await {
        Err(error) => assert_eq!(error, JobsWatchError::Timeout(Timeout {})),
        Ok(_) => panic!("watch(0) fails before streaming"),
    }
    let items: Vec<Result<String, JobsWatchError>> = client.watch(1).await.unwrap().collect().await;
    assert_eq!(
        items,
        [
            Ok("queued".to_string()),
            Ok("running".to_string()),
            Err(JobsWatchError::Timeout(Timeout {})),
        ]
    );
    let collected: Result<Vec<String>, JobsWatchError> =
        client.watch(1).await.unwrap().try_collect().await;
    assert_eq!(collected, Err(JobsWatchError::Timeout(Timeout {})));
    server.shutdown().await;
}

/// Records, for each request, its method, the errors it declares and whether it failed with one.
#[derive(Clone, Default)]
struct DeclaredErrors(Arc<Mutex<Vec<String>>>);

impl Middleware for DeclaredErrors {
    fn after_request(
        &self,
        request: &RequestContext<'_>,
        outcome: &RequestOutcome<'_>,
        _elapsed: Duration,
    ) {
        let declared = matches!(outcome, RequestOutcome::Failed(error) if request.declares(error));
        let line = format!("{} {:?} {declared}", request.method, request.errors);
        self.0.lock().unwrap().push(line);
    }
}

#[tokio::test]
async fn client_middleware_knows_the_errors_a_generated_method_declares() {
    let server = serve(jobs_service(Runner), HEARTBEAT).await;
    let seen = DeclaredErrors::default();
    let client = Client::builder(server.endpoint())
        .heartbeat(Some(HEARTBEAT))
        .layer(seen.clone())
        .connect()
        .unwrap();
    let client = JobsClient::from_client(client);
    client.ping().await.unwrap();
    client.start("").await.unwrap_err();
    client.start("boom").await.unwrap_err();
    client.stop(3).await.unwrap_err();
    server.shutdown().await;
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            r#"ping [] false"#,
            r#"start ["Invalid"] true"#,
            r#"start ["Invalid"] false"#,
            r#"stop ["Timeout", "Conflict", "Denied"] true"#,
        ]
    );
}
