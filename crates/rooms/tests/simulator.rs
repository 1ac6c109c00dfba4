//! The simulator at the wire level: subscription details, malformed input, the HTTP side of the upgrade, and
//! the controller's client against a device that floods feedback.

mod common;

use causeway_rooms::controller::{ClientError, TlsVerify, XapiClient, MAX_QUEUED_EVENTS};
use causeway_rooms::sim::{Control, Fault, FaultAction};
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn client(sim: &causeway_rooms::sim::Simulator) -> XapiClient {
    XapiClient::connect(&room(sim.url(), TlsVerify::Insecure).device, Duration::from_secs(2)).await.expect("connect")
}

#[tokio::test]
async fn notify_current_value_comes_after_the_subscription_id() {
    let sim = sim(&[(3840, 2160)]).await;
    let mut c = client(&sim).await;
    let sub = c
        .call("xFeedback/Subscribe", json!({"Query": ["Status", "Video", "Output", "Connector", 1, "Resolution"], "NotifyCurrentValue": true}))
        .await
        .expect("subscribe");
    assert_eq!(sub, json!({"Id": 1}));
    let initial = tokio::time::timeout(SETTLE, c.next_notification()).await.expect("in time").expect("event");
    assert_eq!(
        initial,
        json!({"Id": 1, "Status": {"Video": {"Output": {"Connector": [{"id": 1, "Resolution": {"Width": 3840, "Height": 2160}}]}}}})
    );
}

#[tokio::test]
async fn unsubscribed_queries_stop_and_other_clients_still_get_feedback() {
    let sim = sim(&[(1920, 1080), (1920, 1080)]).await;
    let mut a = client(&sim).await;
    let mut b = client(&sim).await;
    let query = json!({"Query": ["Status", "Conference", "Presentation", "Mode"]});
    a.call("xFeedback/Subscribe", query.clone()).await.expect("a subscribes");
    b.call("xFeedback/Subscribe", query).await.expect("b subscribes");
    a.call("xFeedback/Unsubscribe", json!({"Id": 1})).await.expect("a unsubscribes");
    let again = a.call("xFeedback/Unsubscribe", json!({"Id": 1})).await;
    assert!(matches!(again, Err(ClientError::Rpc { ref error, .. }) if error.code == 1), "{again:?}");
    control(&sim, Control::RemoteShare { active: true });
    let event = tokio::time::timeout(SETTLE, b.next_notification()).await.expect("in time").expect("event");
    assert_eq!(event["Status"]["Conference"]["Presentation"]["Mode"], json!("Receiving"));
    // a's next message is the answer to a fresh request, not a stale event.
    let mode = a.call("xGet", json!({"Path": ["Status", "Conference", "Presentation", "Mode"]})).await;
    assert_eq!(mode.expect("xGet"), json!("Receiving"));
    let pending = tokio::time::timeout(Duration::from_millis(200), a.next_notification()).await;
    assert!(pending.is_err(), "no event for an unsubscribed query: {pending:?}");
}

#[tokio::test]
async fn malformed_messages_are_answered_with_json_rpc_errors_and_the_session_survives() {
    let sim = sim(&[(1920, 1080)]).await;
    let mut request = sim.url().into_client_request().expect("request");
    let basic = format!("Basic {}", base64_encode(&format!("{USER}:{PASS}")));
    request.headers_mut().insert("Authorization", basic.parse().expect("header"));
    let tcp = tokio::net::TcpStream::connect(sim.local_addr()).await.expect("tcp");
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
    for (text, code) in [
        ("{not json", -32700),
        ("[1,2,3]", -32600),
        (r#"{"jsonrpc":"2.0","id":7,"method":"xGet","params":{"Path":"Status"}}"#, -32602),
        (r#"{"jsonrpc":"2.0","id":8,"method":"Sim/Display","params":{"Connector":99,"Connected":true}}"#, -32602),
    ] {
        ws.send(Message::text(text)).await.expect("send");
        let reply = ws.next().await.expect("a reply").expect("a message");
        let reply: Value = serde_json::from_str(reply.to_text().expect("text")).expect("json");
        assert_eq!(reply["error"]["code"], json!(code), "{text} -> {reply}");
    }
    ws.send(Message::text(r#"{"jsonrpc":"2.0","id":9,"method":"xGet","params":{"Path":["Status","Video","Output","Connector",1,"Connected"]}}"#))
        .await
        .expect("send");
    let reply = ws.next().await.expect("a reply").expect("a message");
    assert_eq!(serde_json::from_str::<Value>(reply.to_text().expect("text")).expect("json")["result"], json!("True"));
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn only_slash_ws_upgrades() {
    let sim = sim(&[(1920, 1080)]).await;
    let target = room(sim.url().replace("/ws", "/other"), TlsVerify::Insecure).device;
    let err = XapiClient::connect(&target, Duration::from_secs(2)).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("404"), "{err}");
}

#[tokio::test]
async fn injected_faults_over_the_wire_apply_to_the_next_matching_requests() {
    let sim = sim(&[(1920, 1080)]).await;
    let mut c = client(&sim).await;
    c.call("Sim/Fault", json!({"Method": "xQuery", "Kind": "Error", "Count": 2})).await.expect("arm");
    for _ in 0..2 {
        let r = c.call("xQuery", json!({"Query": ["Status"]})).await;
        assert!(matches!(r, Err(ClientError::Rpc { ref error, .. }) if error.message == "Simulated failure"), "{r:?}");
    }
    assert!(c.call("xQuery", json!({"Query": ["Status"]})).await.is_ok(), "fault used up");
    sim.inject(Fault { method: "xGet".into(), action: FaultAction::Drop, count: 1 });
    let dropped = c.call("xGet", json!({"Path": ["Status"]})).await;
    assert!(matches!(dropped, Err(ClientError::Closed)), "{dropped:?}");
}

#[tokio::test]
async fn a_device_flooding_feedback_ends_the_session_instead_of_growing_memory() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/ws", listener.local_addr().expect("addr"));
    let flood = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        let _request = ws.next().await;
        let event = json!({"jsonrpc": "2.0", "method": "xFeedback/Event", "params": {"Id": 1, "Status": {}}}).to_string();
        for _ in 0..=MAX_QUEUED_EVENTS {
            if ws.send(Message::text(event.clone())).await.is_err() {
                return;
            }
        }
        // Keep the socket open: the client must give up on its own.
        let _ = ws.next().await;
    });
    let mut c = XapiClient::connect(&room(url, TlsVerify::Insecure).device, Duration::from_secs(5)).await.expect("connect");
    let r = c.call("xGet", json!({"Path": ["Status"]})).await;
    assert!(matches!(r, Err(ClientError::FeedbackFlood { .. })), "{r:?}");
    drop(c);
    flood.await.expect("flooding peer ends");
}
