//! The HTTP API on a real server at 127.0.0.1: enrollment, login, 401 vs 403, reviews reaching
//! the device that pushed, body limit, compression both ways, timeouts, TLS.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;
use waypoint_protocol::{
    AckStatus, ChangeKind, EnrollResponse, ErrorBody, PullResponse, PushRequest, PushResponse, Role,
};
use waypoint_server::Settings;

on_both_stores!(
    enrollment_gives_a_device_credential_once,
    login_checks_the_password,
    missing_or_unknown_credentials_get_401_and_wrong_roles_get_403,
    a_supervisor_review_reaches_the_device_that_pushed,
    bodies_beyond_the_limit_get_413,
    compressed_requests_and_replies_both_ways,
    capacity_updates_reach_every_device,
    a_pushed_body_is_checked_against_its_hash_whatever_its_layout,
);

async fn enrollment_gives_a_device_credential_once(backend: Backend) {
    let t = TestStore::new(backend).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let code = waypoint_server::auth::create_enrollment(&t.store).await.unwrap();

    let reply = client.post(server.url("/v1/enroll")).json(&json!({"code": code})).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let enrolled: EnrollResponse = reply.json().await.unwrap();
    assert!(enrolled.device_token.len() > 40);
    // The server keeps only a hash of the token.
    let hash = waypoint_server::auth::token_hash(&enrolled.device_token);
    assert_eq!(t.store.device_for_token(&hash).await.unwrap(), Some(enrolled.device_id.clone()));
    assert_eq!(t.store.device_for_token(&enrolled.device_token).await.unwrap(), None);

    let again = client.post(server.url("/v1/enroll")).json(&json!({"code": code})).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let error: ErrorBody = again.json().await.unwrap();
    assert_eq!(error.error, "unauthorized");

    // The credential works for sync.
    let pull = client.get(server.url("/v1/sync/pull")).bearer_auth(&enrolled.device_token).send().await.unwrap();
    assert_eq!(pull.status(), StatusCode::OK);
}

async fn login_checks_the_password(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, "a long passphrase").await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    for (username, password) in [("officer.kim", "wrong passphrase"), ("nobody", "a long passphrase")] {
        let reply = client
            .post(server.url("/v1/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{username}");
        let error: ErrorBody = reply.json().await.unwrap();
        assert_eq!(error.message, waypoint_server::sign_in::SIGN_IN_FAILED, "the same answer either way");
    }
    let reply = client
        .post(server.url("/v1/login"))
        .json(&json!({"username": "officer.kim", "password": "a long passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let session: waypoint_protocol::LoginResponse = reply.json().await.unwrap();
    assert_eq!(session.role, Role::Officer);
    assert!(chrono::DateTime::parse_from_rfc3339(&session.expires_at).unwrap() > chrono::Utc::now());
}

async fn missing_or_unknown_credentials_get_401_and_wrong_roles_get_403(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, "a long passphrase").await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "another passphrase").await;
    let signed = sign_in_on(&t.store, &enroll_device(&t.store).await, "officer.kim", "officer.kim").await;
    let device_token = signed.device_token.clone();
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let officer = login(&client, &server, "officer.kim", "a long passphrase").await;
    let supervisor = login(&client, &server, "sgt.reyes", "another passphrase").await;
    let review = json!({"encounter_id": Uuid::now_v7(), "version": 1, "decision": "approved"});
    let push = json!({"records": []});

    /// Method, path, bearer token, JSON body, expected status.
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a serde_json::Value>, StatusCode);
    let cases: Vec<Case> = vec![
        ("POST", "/v1/sync/push", None, Some(&push), StatusCode::UNAUTHORIZED),
        ("POST", "/v1/sync/push", Some("wpd_not-a-real-token"), Some(&push), StatusCode::UNAUTHORIZED),
        ("POST", "/v1/sync/push", Some("garbage"), Some(&push), StatusCode::UNAUTHORIZED),
        ("POST", "/v1/sync/push", Some(&officer), Some(&push), StatusCode::FORBIDDEN),
        ("GET", "/v1/sync/pull", Some(&supervisor), None, StatusCode::FORBIDDEN),
        ("POST", "/v1/reviews", None, Some(&review), StatusCode::UNAUTHORIZED),
        ("POST", "/v1/reviews", Some(&device_token), Some(&review), StatusCode::FORBIDDEN),
        ("POST", "/v1/reviews", Some(&officer), Some(&review), StatusCode::FORBIDDEN),
        ("POST", "/v1/reviews", Some(&supervisor), Some(&review), StatusCode::NOT_FOUND),
        ("POST", "/v1/admin/enrollments", Some(&supervisor), None, StatusCode::FORBIDDEN),
        ("POST", "/v1/admin/enrollments", None, None, StatusCode::UNAUTHORIZED),
    ];
    for (method, path, token, body, expected) in cases {
        let mut request = client.request(method.parse().unwrap(), server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), expected, "{method} {path} as {token:?}");
        if expected != StatusCode::OK {
            if expected == StatusCode::UNAUTHORIZED {
                assert_eq!(reply.headers()["www-authenticate"], "Bearer");
            }
            let error: ErrorBody = reply.json().await.unwrap();
            let kind = match expected {
                StatusCode::UNAUTHORIZED => "unauthorized",
                StatusCode::FORBIDDEN => "forbidden",
                _ => "not_found",
            };
            assert_eq!(error.error, kind, "{method} {path}: {}", error.message);
        }
    }

    // A push needs the device credential and an officer credential of that device.
    let push_as = |officer: Option<String>| {
        let mut request = client.post(server.url("/v1/sync/push")).bearer_auth(&device_token).json(&push);
        if let Some(officer) = officer {
            request = request.header(OFFICER, officer);
        }
        async move { request.send().await.unwrap() }
    };
    for officer in [None, Some("wpo_not-a-real-token".to_string())] {
        let reply = push_as(officer.clone()).await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{officer:?}");
        let error: ErrorBody = reply.json().await.unwrap();
        assert_eq!(error.error, waypoint_protocol::SIGN_IN_REQUIRED);
        assert!(error.message.starts_with("sign in on this device to sync"), "{}", error.message);
    }
    assert_eq!(push_as(Some(signed.officer_token.clone())).await.status(), StatusCode::OK);

    // An expired session is a 401 that says so.
    t.store
        .add_session(
            &waypoint_server::auth::token_hash("wps_expired"),
            waypoint_server::store::SessionRecord {
                username: "sgt.reyes".into(),
                role: Role::Supervisor,
                expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            },
        )
        .await
        .unwrap();
    let reply = client.post(server.url("/v1/reviews")).bearer_auth("wps_expired").json(&review).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert!(reply.json::<ErrorBody>().await.unwrap().message.contains("expired"));
}

async fn a_supervisor_review_reaches_the_device_that_pushed(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "another passphrase").await;
    let signed = signed_in_device(&t.store, "ofc.diaz").await;
    let pusher = signed.device_token.clone();
    let (_, bystander) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let id = Uuid::now_v7();
    let request = PushRequest { records: vec![signed.record(id, 1, 1, "talked down")] };
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&pusher)
        .header(OFFICER, &signed.officer_token)
        .json(&request)
        .send()
        .await
        .unwrap();
    let acks: PushResponse = reply.json().await.unwrap();
    assert_eq!(acks.acks[0].status, AckStatus::Stored);

    let supervisor = login(&client, &server, "sgt.reyes", "another passphrase").await;
    let returned_without_comment = json!({"encounter_id": id, "version": 1, "decision": "returned", "comment": "  "});
    let reply = client
        .post(server.url("/v1/reviews"))
        .bearer_auth(&supervisor)
        .json(&returned_without_comment)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let review = json!({"encounter_id": id, "version": 1, "decision": "returned", "comment": "add the hospital name"});
    let reply = client.post(server.url("/v1/reviews")).bearer_auth(&supervisor).json(&review).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);

    let pull = |token: String| {
        let client = client.clone();
        let url = server.url("/v1/sync/pull");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .query(&[("cursor", "0")])
                .send()
                .await
                .unwrap()
                .json::<PullResponse>()
                .await
                .unwrap()
        }
    };
    let page = pull(pusher.clone()).await;
    assert_eq!(page.changes.len(), 1);
    let change = &page.changes[0];
    assert_eq!((change.kind, change.key.clone()), (ChangeKind::ReviewResult, id.to_string()));
    // The body is what the device's sync engine applies.
    let body: waypoint_protocol::ReviewResultBody = serde_json::from_value(change.body.clone()).unwrap();
    assert_eq!(body.version, 1);
    assert_eq!(body.decision, waypoint_protocol::ReviewDecision::Returned);
    assert_eq!(body.comment.as_deref(), Some("add the hospital name"));
    assert_eq!(body.reviewer.as_deref(), Some("sgt.reyes"));
    assert!(pull(bystander).await.changes.is_empty(), "other devices do not receive it");
}

async fn bodies_beyond_the_limit_get_413(backend: Backend) {
    let t = TestStore::new(backend).await;
    let signed = signed_in_device(&t.store, "ofc.diaz").await;
    let device = signed.device_token.clone();
    let settings = Settings { body_limit_bytes: 64 * 1024, ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let client = http_client();
    let big = PushRequest { records: vec![signed.record(Uuid::now_v7(), 1, 1, &"x".repeat(100 * 1024))] };
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&device)
        .header(OFFICER, &signed.officer_token)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json::<ErrorBody>().await.unwrap().error, "payload_too_large");

    // Compressed small, decompressed too large: still 413 (the limit counts decompressed bytes).
    let packed = zstd::encode_all(serde_json::to_vec(&big).unwrap().as_slice(), 3).unwrap();
    assert!(packed.len() < 64 * 1024);
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&device)
        .header(OFFICER, &signed.officer_token)
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_ENCODING, "zstd")
        .body(packed)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let small = PushRequest { records: vec![signed.record(Uuid::now_v7(), 1, 2, "short")] };
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&device)
        .header(OFFICER, &signed.officer_token)
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "under the limit");
}

async fn compressed_requests_and_replies_both_ways(backend: Backend) {
    let t = TestStore::new(backend).await;
    let signed = signed_in_device(&t.store, "ofc.diaz").await;
    let device = signed.device_token.clone();
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let records: Vec<_> =
        (1..=20).map(|seq| signed.record(Uuid::now_v7(), 1, seq, &"calm words ".repeat(50))).collect();
    let json_bytes = serde_json::to_vec(&PushRequest { records: records[..10].to_vec() }).unwrap();
    let zstd_body = zstd::encode_all(json_bytes.as_slice(), 3).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&serde_json::to_vec(&PushRequest { records: records[10..].to_vec() }).unwrap()).unwrap();
    let gzip_body = gzip.finish().unwrap();
    assert!(zstd_body.len() * 4 < json_bytes.len(), "the body really is compressed");

    for (encoding, body) in [("zstd", zstd_body), ("gzip", gzip_body)] {
        // A raw client, so the reply's encoding can be seen (reqwest would decode it silently).
        let reply = reqwest::Client::builder()
            .no_zstd()
            .no_gzip()
            .build()
            .unwrap()
            .post(server.url("/v1/sync/push"))
            .bearer_auth(&device)
            .header(OFFICER, &signed.officer_token)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, encoding)
            .header(ACCEPT_ENCODING, encoding)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "{encoding}");
        assert_eq!(reply.headers()[CONTENT_ENCODING], encoding, "reply compressed as asked");
        let packed = reply.bytes().await.unwrap();
        let plain = match encoding {
            "zstd" => zstd::decode_all(&packed[..]).unwrap(),
            _ => {
                let mut out = Vec::new();
                std::io::copy(&mut flate2::read::GzDecoder::new(&packed[..]), &mut out).unwrap();
                out
            }
        };
        let acks: PushResponse = serde_json::from_slice(&plain).unwrap();
        assert_eq!(acks.acks.len(), 10);
        assert!(acks.acks.iter().all(|a| a.status == AckStatus::Stored), "{encoding}");
    }
    assert_eq!(t.store.versions_since(None).await.unwrap().len(), 20);

    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&device)
        .header(OFFICER, &signed.officer_token)
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_ENCODING, "zstd")
        .body("this is not zstd")
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_client_error(), "a corrupt body is the client's error: {}", reply.status());
}

async fn capacity_updates_reach_every_device(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, "a long passphrase").await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "another passphrase").await;
    let devices = [enroll_device(&t.store).await.1, enroll_device(&t.store).await.1];
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let officer = login(&client, &server, "officer.kim", "a long passphrase").await;
    let supervisor = login(&client, &server, "sgt.reyes", "another passphrase").await;
    let update = json!({"id": "cap-1", "service_id": "svc-9", "unit": "beds", "available": 3, "maximum": 12,
                        "updated_at": "2026-11-29T01:00:00Z"});
    let post = |token: &str, body: &serde_json::Value| {
        client.post(server.url("/v1/directory/capacity")).bearer_auth(token).json(body).send()
    };
    assert_eq!(post(&officer, &update).await.unwrap().status(), StatusCode::FORBIDDEN);
    let mut impossible = update.clone();
    impossible["available"] = json!(13);
    assert_eq!(post(&supervisor, &impossible).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(post(&supervisor, &update).await.unwrap().status(), StatusCode::OK);
    for device in &devices {
        let page: PullResponse =
            client.get(server.url("/v1/sync/pull")).bearer_auth(device).send().await.unwrap().json().await.unwrap();
        assert_eq!(page.changes.len(), 1);
        assert_eq!((page.changes[0].kind, page.changes[0].key.as_str()), (ChangeKind::CapacityUpdate, "svc-9"));
        assert_eq!(page.changes[0].body, update);
    }
}

#[tokio::test]
async fn slow_requests_time_out_with_408() {
    let t = TestStore::new(Backend::Sqlite).await;
    add_user(&t.store, "officer.kim", Role::Officer, "a long passphrase").await;
    // Argon2 verification alone takes longer than this.
    let settings = Settings { request_timeout: Duration::from_millis(2), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let reply = http_client()
        .post(server.url("/v1/login"))
        .json(&json!({"username": "officer.kim", "password": "a long passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::REQUEST_TIMEOUT);
}

#[tokio::test]
async fn tls_with_the_self_signed_certificate_made_on_first_run() {
    let t = TestStore::new(Backend::Sqlite).await;
    let data_dir = tempfile::tempdir().unwrap();
    let (cert, key) = waypoint_server::tls::certificate_files(data_dir.path(), None, None).unwrap();
    let first = std::fs::read(&cert).unwrap();
    // A second start keeps the same certificate (devices pin it).
    let (cert_again, _) = waypoint_server::tls::certificate_files(data_dir.path(), None, None).unwrap();
    assert_eq!(std::fs::read(&cert_again).unwrap(), first);

    let tls = waypoint_server::tls::server_config(&cert, &key).unwrap();
    let server = TestServer::start_with_tls(t.store.clone(), Settings::default(), Some(tls)).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client =
        reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&first).unwrap()]).build().unwrap();
    let url = format!("https://localhost:{}/v1/health", server.addr.port());
    let reply = client.get(&url).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    // Plain HTTP to the TLS port gets no HTTP answer.
    assert!(http_client().get(server.url("/v1/health")).send().await.is_err());
    // A client that does not trust the certificate refuses the connection.
    let strict = reqwest::Client::builder().tls_certs_only(Vec::<reqwest::Certificate>::new()).build().unwrap();
    assert!(strict.get(&url).send().await.is_err());
}

#[tokio::test]
async fn the_self_signed_certificate_names_the_hosts_devices_use() {
    use waypoint_server::tls::certificate_files_for;
    let t = TestStore::new(Backend::Sqlite).await;
    let data_dir = tempfile::tempdir().unwrap();
    let names = vec!["Waypoint.Station.Example".to_string(), "192.0.2.10".to_string()];
    let (cert, key) = certificate_files_for(data_dir.path(), None, None, &names).unwrap();
    let pem = std::fs::read(&cert).unwrap();
    let tls = waypoint_server::tls::server_config(&cert, &key).unwrap();
    let server = TestServer::start_with_tls(t.store.clone(), Settings::default(), Some(tls)).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Each host name is resolved to the test server on 127.0.0.1: nothing leaves loopback.
    let get = |host: &str| {
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
            .resolve(host, server.addr)
            .build()
            .unwrap();
        let url = format!("https://{host}:{}/v1/health", server.addr.port());
        async move { client.get(url).send().await }
    };
    assert_eq!(get("waypoint.station.example").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("localhost").await.unwrap().status(), StatusCode::OK, "localhost is always named");
    assert!(get("elsewhere.example").await.is_err(), "a name the certificate does not carry is refused");

    // The same names again keep the certificate; a new one is refused with the way out, since
    // replacing the certificate would lock out every device that pinned it.
    let (again, _) = certificate_files_for(data_dir.path(), None, None, &names[..1]).unwrap();
    assert_eq!(std::fs::read(again).unwrap(), pem);
    let refused = certificate_files_for(data_dir.path(), None, None, &["new.example".into()]).unwrap_err().to_string();
    assert!(refused.contains("not new.example") && refused.contains("enrol the devices again"), "{refused}");
    // A certificate from before names were recorded names the loopback only.
    std::fs::remove_file(data_dir.path().join("tls/names.txt")).unwrap();
    assert!(certificate_files_for(data_dir.path(), None, None, &[]).is_ok());
    assert!(certificate_files_for(data_dir.path(), None, None, &names[..1]).is_err());
    // A given certificate names its own hosts.
    assert!(certificate_files_for(data_dir.path(), Some(cert.clone()), Some(key.clone()), &names).is_err());
}

async fn a_pushed_body_is_checked_against_its_hash_whatever_its_layout(backend: Backend) {
    let t = TestStore::new(backend).await;
    let signed = signed_in_device(&t.store, "ofc.diaz").await;
    let device = signed.device_token.clone();
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    // Written by hand: the exact bytes of each body matter here.
    let push = |records: Vec<String>| {
        let request = client
            .post(server.url("/v1/sync/push"))
            .bearer_auth(&device)
            .header(OFFICER, &signed.officer_token)
            .header(CONTENT_TYPE, "application/json")
            .body(format!(r#"{{"records":[{}]}}"#, records.join(",")));
        async move { request.send().await.unwrap().json::<PushResponse>().await.unwrap().acks }
    };
    let wire = |record: &waypoint_protocol::PushRecord, body: String| {
        format!(
            r#"{{"encounter_id":"{}","version":{},"seq":{},"content_hash":"{}","body":{body}}}"#,
            record.encounter_id, record.version, record.seq, record.content_hash
        )
    };
    let canonical = |body: &serde_json::Value| String::from_utf8(waypoint_protocol::canonical_json(body)).unwrap();
    // Another client's layout of the same content: keys in reverse order, spaces after commas.
    let reversed_layout = |body: &serde_json::Value| {
        let fields: Vec<String> = body
            .as_object()
            .unwrap()
            .iter()
            .rev()
            .map(|(key, value)| format!("{}: {}", serde_json::to_string(key).unwrap(), canonical(value)))
            .collect();
        format!("{{ {} }}", fields.join(", "))
    };
    // As the device sends it (the canonical bytes it hashed), and as another client might: both
    // stored.
    let exact = signed.record(Uuid::now_v7(), 1, 1, "as hashed");
    let reordered = signed.record(Uuid::now_v7(), 1, 2, "keys in another order");
    assert_ne!(reversed_layout(&reordered.body), canonical(&reordered.body));
    // Content changed after hashing: rejected, and the records around it are not blocked.
    let tampered = signed.record(Uuid::now_v7(), 1, 3, "calm");
    let mut changed = tampered.body.clone();
    changed["narrative"] = json!("not what was hashed");
    let acks = push(vec![
        wire(&exact, canonical(&exact.body)),
        wire(&reordered, reversed_layout(&reordered.body)),
        wire(&tampered, canonical(&changed)),
    ])
    .await;
    let statuses: Vec<AckStatus> = acks.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![AckStatus::Stored, AckStatus::Stored, AckStatus::Rejected]);
    assert!(acks[2].reason.as_deref().unwrap().contains("content hash does not match"), "{acks:?}");
    // Sent again in the device's layout: the same version, so a duplicate, not a conflict.
    let again = push(vec![wire(&reordered, canonical(&reordered.body))]).await;
    assert_eq!(again[0].status, AckStatus::Duplicate);
    let held = t.store.versions_since(None).await.unwrap();
    assert_eq!(held.len(), 2);
    for version in held {
        let sent = if version.encounter_id == exact.encounter_id { &exact } else { &reordered };
        assert_eq!(version.body, sent.body, "stored as the content that was hashed");
    }
}
