//! `/openapi.json` describes exactly the routes the router serves: no undocumented endpoint, no
//! documented one missing.

mod common;

use std::collections::BTreeSet;

use common::*;
use waypoint_server::Settings;

fn documented() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(waypoint_server::openapi::document()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

fn routed() -> BTreeSet<(String, String)> {
    waypoint_server::api::route_table()
        .into_iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let (documented, routed) = (documented(), routed());
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routes missing from /openapi.json: {undocumented:?}");
    assert!(unrouted.is_empty(), "documented but not routed: {unrouted:?}");
    assert!(routed.len() >= 9);
}

/// The route table is what the running router serves: each documented operation answers with
/// something other than the 404/405 of an unknown route, and an unknown path gets the JSON 404.
#[tokio::test]
async fn the_served_document_matches_and_every_documented_route_answers() {
    let t = TestStore::new(Backend::Sqlite).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let served: serde_json::Value = client.get(server.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, serde_json::to_value(waypoint_server::openapi::document()).unwrap());
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
    assert!(served["components"]["schemas"]["PushRecord"].is_object(), "protocol schemas are in the document");

    for (method, path) in documented() {
        let reply = client.request(method.parse().unwrap(), server.url(&path)).send().await.unwrap();
        let status = reply.status().as_u16();
        let body = reply.text().await.unwrap();
        assert!(status != 405 && !body.contains("no such endpoint"), "{method} {path}: {status} {body}");
    }
    let reply = client.get(server.url("/v1/nothing-here")).send().await.unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.json::<waypoint_protocol::ErrorBody>().await.unwrap().error, "not_found");
}
