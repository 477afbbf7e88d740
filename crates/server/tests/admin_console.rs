//! The admin console's endpoints over HTTP on both stores: users (add, role, sessions),
//! devices (last officer, reported app version and pending records, enrolment with fingerprint
//! and QR, rotation), the audit trail (browse, filters, paging, verify, export) and filtered
//! encounter exports, each audited.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use waypoint_protocol::{
    AuditEntry, AuditPage, AuditVerification, DeviceInfo, EnrollResponse, EnrollmentCode, ErrorBody, LoginResponse,
    PushRequest, Role, SessionOrigin, UserInfo, APP_VERSION_HEADER, PENDING_RECORDS_HEADER,
};
use waypoint_server::Settings;

on_both_stores!(
    an_admin_adds_a_user_who_can_then_sign_in,
    a_role_change_ends_the_users_sessions,
    the_user_list_shows_live_sessions_and_where_they_started,
    the_device_list_shows_its_officer_app_version_and_pending_records,
    an_enrolment_code_carries_the_fingerprint_and_a_qr_code,
    a_rotated_device_re_enrols_under_its_own_id_only,
    the_audit_trail_is_browsed_newest_first_with_filters_and_paging,
    the_audit_trail_is_verified_and_exported_and_each_is_audited,
    encounters_are_exported_with_filters_and_audited,
);

const PASSWORD: &str = "a long passphrase";

struct Console {
    t: TestStore,
    server: TestServer,
    client: reqwest::Client,
    admin: String,
}

impl Console {
    async fn start(backend: Backend, settings: Settings) -> Self {
        let t = TestStore::new(backend).await;
        add_user(&t.store, "admin.ng", Role::Admin, PASSWORD).await;
        let server = TestServer::start(t.store.clone(), settings).await;
        let client = http_client();
        let admin = login(&client, &server, "admin.ng", PASSWORD).await;
        Console { t, server, client, admin }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.server.url(path)).bearer_auth(&self.admin).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self.client.post(self.server.url(path)).bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn users(&self) -> Vec<UserInfo> {
        let reply = self.get("/v1/admin/users").await;
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }

    async fn user(&self, username: &str) -> UserInfo {
        self.users().await.into_iter().find(|u| u.username == username).unwrap()
    }

    async fn devices(&self) -> Vec<DeviceInfo> {
        self.get("/v1/admin/devices").await.json().await.unwrap()
    }

    async fn rows(&self) -> Vec<waypoint_server::store::audit::AuditRow> {
        self.t.store.audit_rows(0, 100_000).await.unwrap()
    }

    /// A sign-in from the device holding `device_token`: the session and the officer credential.
    async fn sign_in_on_device(&self, device_token: &str, username: &str) -> LoginResponse {
        let reply = self
            .client
            .post(self.server.url("/v1/login"))
            .bearer_auth(device_token)
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }
}

async fn error_of(reply: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = reply.status();
    (status, reply.json().await.unwrap())
}

async fn an_admin_adds_a_user_who_can_then_sign_in(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    let new = json!({"username": "ofc.diaz", "role": "officer", "officer_id": " 1207 ", "password": PASSWORD});
    let reply = c.post("/v1/admin/users", Some(new.clone())).await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let added: UserInfo = reply.json().await.unwrap();
    assert_eq!((added.username.as_str(), added.role, added.officer_id.as_str()), ("ofc.diaz", Role::Officer, "1207"));
    assert!(added.enabled && !added.mfa_enrolled && added.sessions.is_empty());

    let (status, error) = error_of(c.post("/v1/admin/users", Some(new)).await).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::CONFLICT, "already_exists"));
    let same_badge = json!({"username": "ofc.other", "role": "officer", "officer_id": "1207", "password": PASSWORD});
    assert_eq!(c.post("/v1/admin/users", Some(same_badge)).await.status(), StatusCode::CONFLICT);
    for (body, field) in [
        (json!({"username": "a/b", "role": "officer", "password": PASSWORD}), "username"),
        (json!({"username": "ofc.short", "role": "officer", "password": "short"}), "password"),
    ] {
        let (status, error) = error_of(c.post("/v1/admin/users", Some(body)).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error.message.starts_with(field), "{}", error.message);
    }
    let bad_role = json!({"username": "ofc.x", "role": "chief", "password": PASSWORD});
    assert_eq!(c.post("/v1/admin/users", Some(bad_role)).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let signed_in = c
        .client
        .post(c.server.url("/v1/login"))
        .json(&json!({"username": "ofc.diaz", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let login: LoginResponse = signed_in.json().await.unwrap();
    assert_eq!(login.officer_id, "1207");

    // Recorded before the write (the house rule); a refused write is followed by its `error`.
    // Requests that break a rule are refused before anything is recorded.
    let rows = c.rows().await;
    let added: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "user_added")
        .map(|r| (r.actor.as_str(), r.target.as_deref().unwrap(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        added,
        [
            ("admin.ng", "user ofc.diaz", "ok"),
            ("admin.ng", "user ofc.diaz", "ok"),
            ("admin.ng", "user ofc.diaz", "error"),
            ("admin.ng", "user ofc.other", "ok"),
            ("admin.ng", "user ofc.other", "error"),
        ]
    );
    let first = rows.iter().find(|r| r.action == "user_added").unwrap();
    assert_eq!(first.detail.as_deref(), Some("officer (officer id 1207)"));
}

async fn a_role_change_ends_the_users_sessions(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    add_user(&c.t.store, "ofc.kim", Role::Officer, PASSWORD).await;
    let session = login(&c.client, &c.server, "ofc.kim", PASSWORD).await;
    let metrics = |token: String| c.client.get(c.server.url("/v1/metrics")).bearer_auth(token).send();
    assert_eq!(metrics(session.clone()).await.unwrap().status(), StatusCode::FORBIDDEN, "an officer");

    let reply = c.post("/v1/admin/users/ofc.kim/role", Some(json!({"role": "supervisor"}))).await;
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    assert_eq!(metrics(session).await.unwrap().status(), StatusCode::UNAUTHORIZED, "the old session ended");
    assert_eq!(c.user("ofc.kim").await.role, Role::Supervisor);
    let row = c.rows().await.into_iter().find(|r| r.action == "role_changed").unwrap();
    assert_eq!((row.actor.as_str(), row.detail.as_deref()), ("admin.ng", Some("officer -> supervisor")));

    let own = c.post("/v1/admin/users/admin.ng/role", Some(json!({"role": "officer"}))).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    let nobody = c.post("/v1/admin/users/nobody/role", Some(json!({"role": "officer"}))).await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
}

async fn the_user_list_shows_live_sessions_and_where_they_started(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    add_user(&c.t.store, "ofc.kim", Role::Officer, PASSWORD).await;
    let (device_id, device_token) = enroll_device(&c.t.store).await;
    let from_device = c.sign_in_on_device(&device_token, "ofc.kim").await;
    login(&c.client, &c.server, "ofc.kim", PASSWORD).await;

    let kim = c.user("ofc.kim").await;
    assert_eq!(kim.sessions.len(), 2, "{kim:?}");
    let origins: Vec<_> = kim.sessions.iter().map(|s| (s.origin, s.device_id.clone())).collect();
    assert!(origins.contains(&(SessionOrigin::Device, Some(device_id.clone()))), "{origins:?}");
    assert!(origins.contains(&(SessionOrigin::Api, None)), "{origins:?}");
    assert!(kim.sessions.iter().all(|s| s.created_at.is_some() && s.last_used_at.is_some()));
    let admin = c.user("admin.ng").await;
    assert_eq!(admin.sessions.len(), 1, "the admin's own");

    // Logging out ends one; disabling ends the rest.
    let out = c.client.post(c.server.url("/v1/logout")).bearer_auth(&from_device.session_token).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.user("ofc.kim").await.sessions.len(), 1);
    assert_eq!(c.post("/v1/admin/users/ofc.kim/disable", None).await.status(), StatusCode::NO_CONTENT);
    let kim = c.user("ofc.kim").await;
    assert!(!kim.enabled && kim.sessions.is_empty(), "{kim:?}");
}

async fn the_device_list_shows_its_officer_app_version_and_pending_records(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    add_user(&c.t.store, "ofc.kim", Role::Officer, PASSWORD).await;
    let (device_id, device_token) = enroll_device(&c.t.store).await;
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    assert_eq!(
        (device.last_officer.as_deref(), device.app_version.as_deref(), device.pending_records),
        (None, None, None)
    );

    let login = c.sign_in_on_device(&device_token, "ofc.kim").await;
    let id = Uuid::now_v7();
    let push = PushRequest { records: vec![record_by(id, 1, 1, "calm", "ofc.kim", &device_id)] };
    let pushed = c
        .client
        .post(c.server.url("/v1/sync/push"))
        .bearer_auth(&device_token)
        .header(OFFICER, login.officer_token.unwrap())
        .header(APP_VERSION_HEADER, "0.9.1")
        .header(PENDING_RECORDS_HEADER, "3")
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    assert_eq!(device.last_officer.as_deref(), Some("ofc.kim"));
    assert!(
        device.last_officer_signed_in_at.is_some() && device.reported_at.is_some() && device.last_seen_at.is_some()
    );
    assert_eq!((device.app_version.as_deref(), device.pending_records), (Some("0.9.1"), Some(3)));

    // The pull after the push says what is left; an unreadable count keeps the last one.
    let pull = |pending: &'static str| {
        c.client
            .get(c.server.url("/v1/sync/pull"))
            .bearer_auth(&device_token)
            .header(APP_VERSION_HEADER, "0.9.2")
            .header(PENDING_RECORDS_HEADER, pending)
            .send()
    };
    assert_eq!(pull("0").await.unwrap().status(), StatusCode::OK);
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    assert_eq!((device.app_version.as_deref(), device.pending_records), (Some("0.9.2"), Some(0)));
    assert_eq!(pull("many").await.unwrap().status(), StatusCode::OK);
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    assert_eq!(device.pending_records, Some(0));

    // The field app's own sync client sends both with every request.
    let config = waypoint_core::sync::http::HttpConfig::new(format!("http://{}", c.server.addr));
    tokio::task::spawn_blocking(move || {
        use waypoint_core::sync::transport::Transport;
        let mut transport =
            waypoint_core::sync::http::HttpTransport::new(&config, device_token).unwrap().with_pending_records(5);
        transport.pull(0, 64 * 1024).unwrap();
    })
    .await
    .unwrap();
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    let app = waypoint_core::sync::http::APP_VERSION;
    assert_eq!((device.app_version.as_deref(), device.pending_records), (Some(app), Some(5)));
}

async fn an_enrolment_code_carries_the_fingerprint_and_a_qr_code(backend: Backend) {
    let settings = Settings { certificate_fingerprint: Some("AB:CD:EF".into()), ..Settings::default() };
    let c = Console::start(backend, settings).await;
    let reply = c.post("/v1/admin/enrollments", None).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let code: EnrollmentCode = reply.json().await.unwrap();
    assert_eq!(code.certificate_fingerprint.as_deref(), Some("AB:CD:EF"));
    let server = format!("https://{}", c.server.addr);
    assert_eq!(code.server_url.as_deref(), Some(server.as_str()));
    let uri = code.enrolment_uri.clone().unwrap();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(uri.strip_prefix("waypoint-enrol:?").unwrap().as_bytes()).into_owned().collect();
    assert_eq!(
        query,
        [("server".to_string(), server), ("code".into(), code.code.clone()), ("fingerprint".into(), "AB:CD:EF".into())]
    );
    let svg = code.qr_svg.unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    assert!(code.device_id.is_none());

    let enrolled = c.client.post(c.server.url("/v1/enroll")).json(&json!({"code": code.code})).send().await.unwrap();
    assert_eq!(enrolled.status(), StatusCode::OK, "the code enrols a device");
    let issued = c.rows().await.into_iter().filter(|r| r.action == "enrollment_code_issued").count();
    assert_eq!(issued, 1);
}

async fn a_rotated_device_re_enrols_under_its_own_id_only(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    add_user(&c.t.store, "ofc.kim", Role::Officer, PASSWORD).await;
    let (device_id, device_token) = enroll_device(&c.t.store).await;
    let login = c.sign_in_on_device(&device_token, "ofc.kim").await;
    let officer_token = login.officer_token.unwrap();

    let reply = c.post(&format!("/v1/admin/devices/{device_id}/rotate"), None).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let code: EnrollmentCode = reply.json().await.unwrap();
    assert_eq!(code.device_id.as_deref(), Some(device_id.as_str()));
    let pull = |token: String| c.client.get(c.server.url("/v1/sync/pull")).bearer_auth(token).send();
    let (status, error) = error_of(pull(device_token.clone()).await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::UNAUTHORIZED, waypoint_protocol::ERROR_DEVICE_REVOKED));
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    assert!(device.revoked && device.reenrolment_until.is_some(), "{device:?}");

    let enroll = |device: Option<String>| {
        c.client.post(c.server.url("/v1/enroll")).json(&json!({"code": code.code, "device_id": device})).send()
    };
    assert_eq!(enroll(None).await.unwrap().status(), StatusCode::UNAUTHORIZED, "no id: another device");
    let other = Uuid::now_v7().to_string();
    assert_eq!(enroll(Some(other)).await.unwrap().status(), StatusCode::UNAUTHORIZED, "another id");
    let reply = enroll(Some(device_id.clone())).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let enrolled: EnrollResponse = reply.json().await.unwrap();
    assert_eq!(enrolled.device_id, device_id);
    assert_eq!(pull(enrolled.device_token.clone()).await.unwrap().status(), StatusCode::OK, "the new token works");
    assert_eq!(pull(device_token).await.unwrap().status(), StatusCode::UNAUTHORIZED, "the old one does not");
    assert_eq!(enroll(Some(device_id.clone())).await.unwrap().status(), StatusCode::UNAUTHORIZED, "used up");
    let device = c.devices().await.into_iter().find(|d| d.device_id == device_id).unwrap();
    assert!(!device.revoked && device.reenrolment_until.is_none(), "{device:?}");

    // The officer credential issued before the rotation stopped with the old token.
    let push = PushRequest { records: vec![record_by(Uuid::now_v7(), 1, 1, "calm", "ofc.kim", &device_id)] };
    let pushed = c
        .client
        .post(c.server.url("/v1/sync/push"))
        .bearer_auth(&enrolled.device_token)
        .header(OFFICER, officer_token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::UNAUTHORIZED);

    // A newer rotation voids the older unused code; an unknown device is 404.
    let first: EnrollmentCode =
        c.post(&format!("/v1/admin/devices/{device_id}/rotate"), None).await.json().await.unwrap();
    let second: EnrollmentCode =
        c.post(&format!("/v1/admin/devices/{device_id}/rotate"), None).await.json().await.unwrap();
    let with = |code: String| {
        c.client.post(c.server.url("/v1/enroll")).json(&json!({"code": code, "device_id": device_id})).send()
    };
    assert_eq!(with(first.code).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(with(second.code).await.unwrap().status(), StatusCode::OK);
    assert_eq!(c.post("/v1/admin/devices/no-such-device/rotate", None).await.status(), StatusCode::NOT_FOUND);
    let rotations = c.rows().await.into_iter().filter(|r| r.action == "device_rotation" && r.outcome == "ok").count();
    assert_eq!(rotations, 4, "three rotations and the attempt on an unknown device");
}

async fn page(c: &Console, query: &str) -> AuditPage {
    let reply = c.get(&format!("/v1/admin/audit{query}")).await;
    assert_eq!(reply.status(), StatusCode::OK, "{query}");
    reply.json().await.unwrap()
}

async fn the_audit_trail_is_browsed_newest_first_with_filters_and_paging(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    for name in ["ofc.a", "ofc.b", "ofc.c"] {
        add_user(&c.t.store, name, Role::Officer, PASSWORD).await;
        assert_eq!(c.post(&format!("/v1/admin/users/{name}/disable"), None).await.status(), StatusCode::NO_CONTENT);
    }
    let wrong = c
        .client
        .post(c.server.url("/v1/login"))
        .json(&json!({"username": "OFC.Mystery", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let all = page(&c, "").await;
    let seqs: Vec<u64> = all.entries.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
    assert_eq!(all.entries[0].action, "audit_read", "the read itself is recorded first");
    assert_eq!(all.entries[0].actor, "admin.ng");

    let disabled = page(&c, "?action=user_disabled").await;
    let targets: Vec<_> = disabled.entries.iter().map(|e| e.target.clone().unwrap()).collect();
    assert_eq!(targets, ["user ofc.c", "user ofc.b", "user ofc.a"]);
    let failed = page(&c, "?outcome=failed&target=mystery").await;
    assert_eq!(failed.entries.len(), 1, "the target text matches any case");
    assert_eq!((failed.entries[0].actor.as_str(), failed.entries[0].action.as_str()), ("OFC.Mystery", "sign_in"));
    assert!(page(&c, "?target=%25").await.entries.is_empty(), "% is taken literally");
    assert_eq!(page(&c, "?actor=admin.ng&action=user_disabled").await.entries.len(), 3);
    assert!(page(&c, "?actor=nobody").await.entries.is_empty());

    // Paging: two at a time down to the first row, each page older than the last.
    let mut before: Option<u64> = None;
    let mut seen = Vec::new();
    loop {
        let query = match before {
            Some(seq) => format!("?action=user_disabled&limit=2&before={seq}"),
            None => "?action=user_disabled&limit=2".to_string(),
        };
        let page = page(&c, &query).await;
        seen.extend(page.entries.iter().map(|e| e.target.clone().unwrap()));
        match page.next_before {
            Some(seq) => before = Some(seq),
            None => break,
        }
    }
    assert_eq!(seen, ["user ofc.c", "user ofc.b", "user ofc.a"]);

    // Time ranges: everything is from today; nothing from tomorrow on.
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(page(&c, &format!("?action=user_disabled&from={today}&to={today}")).await.entries.len(), 3);
    assert!(page(&c, &format!("?from={tomorrow}")).await.entries.is_empty());
    let (status, _) = error_of(c.get("/v1/admin/audit?from=yesterday").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let supervisor_user = add_user(&c.t.store, "sgt.reyes", Role::Supervisor, PASSWORD);
    supervisor_user.await;
    let supervisor = login(&c.client, &c.server, "sgt.reyes", PASSWORD).await;
    let refused = c.client.get(c.server.url("/v1/admin/audit")).bearer_auth(supervisor).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

async fn the_audit_trail_is_verified_and_exported_and_each_is_audited(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    add_user(&c.t.store, "=cmd|' /C calc'!A0", Role::Officer, PASSWORD).await;
    let wrong = c
        .client
        .post(c.server.url("/v1/login"))
        .json(&json!({"username": "=cmd|' /C calc'!A0", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let verified: AuditVerification = c.get("/v1/admin/audit/verify").await.json().await.unwrap();
    assert!(verified.intact, "{verified:?}");
    let rows = c.rows().await;
    assert_eq!(verified.rows, rows.len() as u64);
    assert_eq!(verified.head_hash.as_deref(), Some(rows.last().unwrap().hash.as_str()));
    assert_eq!(rows.last().unwrap().action, "audit_verify", "the verify is in what it verified");

    let reply = c.get("/v1/admin/audit/export?format=json").await;
    assert_eq!(reply.status(), StatusCode::OK);
    let disposition = reply.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"waypoint-audit-") && disposition.ends_with(".json\""));
    let exported: Vec<AuditEntry> = reply.json().await.unwrap();
    assert_eq!(exported.len(), c.rows().await.len());
    assert_eq!(exported.last().unwrap().action, "audit_export");
    let seqs: Vec<u64> = exported.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");

    let csv = c.get("/v1/admin/audit/export?format=csv").await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("seq,at,actor,client,action,target,outcome,detail,prev_hash,hash\n"), "{text}");
    assert!(text.contains("'=cmd"), "the formula is neutralised: {text}");
    assert!(!text.contains(",=cmd"), "{text}");

    let tomorrow = chrono::Utc::now().date_naive().succ_opt().unwrap();
    let later: Vec<AuditEntry> = c.get(&format!("/v1/admin/audit/export?since={tomorrow}")).await.json().await.unwrap();
    assert!(later.is_empty());
    assert_eq!(c.get("/v1/admin/audit/export?format=xml").await.status(), StatusCode::BAD_REQUEST);
    let exports = c.rows().await.into_iter().filter(|r| r.action == "audit_export").count();
    assert_eq!(exports, 3, "each export that ran is recorded");
}

async fn encounters_are_exported_with_filters_and_audited(backend: Backend) {
    let c = Console::start(backend, Settings::default()).await;
    add_user(&c.t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
    let diaz = signed_in_device(&c.t.store, "ofc.diaz").await;
    let kim = signed_in_device(&c.t.store, "ofc.kim").await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let push = |who: &SignedIn, id: Uuid, narrative: &str| {
        let request = PushRequest { records: vec![who.record(id, 1, 1, narrative)] };
        c.client
            .post(c.server.url("/v1/sync/push"))
            .bearer_auth(&who.device_token)
            .header(OFFICER, &who.officer_token)
            .json(&request)
            .send()
    };
    assert_eq!(push(&diaz, a, "=HYPERLINK(\"http://x\")").await.unwrap().status(), StatusCode::OK);
    assert_eq!(push(&kim, b, "calm").await.unwrap().status(), StatusCode::OK);
    let supervisor = login(&c.client, &c.server, "sgt.reyes", PASSWORD).await;
    let approve = json!({"encounter_id": b, "version": 1, "decision": "approved"});
    let decided = c.client.post(c.server.url("/v1/reviews")).bearer_auth(&supervisor).json(&approve).send().await;
    assert_eq!(decided.unwrap().status(), StatusCode::OK);

    let ids = |records: &Vec<Value>| -> Vec<String> {
        records.iter().map(|r| r["encounter_id"].as_str().unwrap().to_string()).collect()
    };
    let console = &c;
    let export = |query: &'static str| async move {
        let reply = console.get(&format!("/v1/admin/export{query}")).await;
        assert_eq!(reply.status(), StatusCode::OK, "{query}");
        reply.json::<Vec<Value>>().await.unwrap()
    };
    assert_eq!(ids(&export("").await), [a.to_string(), b.to_string()]);
    assert_eq!(ids(&export("?officer=ofc.kim").await), [b.to_string()]);
    assert_eq!(ids(&export("?state=approved").await), [b.to_string()]);
    assert_eq!(ids(&export("?state=submitted").await), [a.to_string()]);
    assert!(export("?state=returned").await.is_empty());
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        c.get(&format!("/v1/admin/export?from={today}&to={today}")).await.json::<Vec<Value>>().await.unwrap().len(),
        2
    );
    let tomorrow = today.succ_opt().unwrap();
    assert!(c.get(&format!("/v1/admin/export?from={tomorrow}")).await.json::<Vec<Value>>().await.unwrap().is_empty());

    let csv = c.get("/v1/admin/export?format=csv&officer=ofc.diaz").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("waypoint-encounters-"));
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 2, "a header and one row: {text}");
    assert!(text.contains(&a.to_string()));
    assert_eq!(c.get("/v1/admin/export?state=lost").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/v1/admin/export?from=soon").await.status(), StatusCode::BAD_REQUEST);

    let exports: Vec<_> = c.rows().await.into_iter().filter(|r| r.action == "export").collect();
    assert_eq!(exports.len(), 8, "{exports:#?}");
    assert!(exports.iter().all(|r| r.actor == "admin.ng" && r.target.as_deref() == Some("encounters")));
    assert!(exports[1].detail.as_deref().unwrap().contains("\"officer\":\"ofc.kim\""), "{:?}", exports[1].detail);
    let refused = c.client.get(c.server.url("/v1/admin/export")).bearer_auth(supervisor).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
