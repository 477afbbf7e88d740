//! Sign-in an agency can audit, over HTTP on both stores: MFA enrolment and codes, recovery
//! codes, lockout, one answer for every failure, rate limit, the Argon2 bound, logout,
//! disabling, device revocation and rotation, session idle and absolute expiry, admin endpoints.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use waypoint_protocol::{
    DeviceTokenRotation, ErrorBody, LoginResponse, MfaConfirmResponse, MfaEnrolmentRequired, MfaEnrolmentStart, Role,
};
use waypoint_server::admin_api::{DeviceInfo, UserInfo};
use waypoint_server::sign_in::SIGN_IN_FAILED;
use waypoint_server::{mfa, Settings, SignInRate};

on_both_stores!(
    staff_enrol_in_mfa_then_sign_in_with_a_code_or_a_recovery_code,
    officers_enrol_only_when_the_agency_requires_it,
    five_failures_lock_until_expiry_or_an_admin_unlocks,
    every_failed_sign_in_gets_the_same_answer,
    sign_ins_beyond_the_rate_get_429_with_retry_after,
    argon2_work_is_bounded_and_the_excess_gets_503,
    logout_ends_the_session,
    a_disabled_user_is_refused_at_once_and_can_be_enabled,
    a_revoked_device_is_told_so_and_cannot_rotate,
    a_device_rotates_its_token_and_the_old_one_stops,
    sessions_end_when_idle_and_at_their_absolute_expiry,
    admin_endpoints_list_users_and_devices_and_need_the_admin_role,
    an_admin_resets_a_password_and_the_old_one_stops,
);

const PASSWORD: &str = "a long passphrase";

async fn sign_in(
    client: &reqwest::Client,
    server: &TestServer,
    username: &str,
    totp: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    client.post(server.url("/v1/login")).json(&body).send().await.unwrap()
}

async fn error_of(reply: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = reply.status();
    (status, reply.json().await.unwrap())
}

/// An admin session (the admin is enrolled in MFA by `add_user`).
async fn admin_session(t: &TestStore, client: &reqwest::Client, server: &TestServer) -> String {
    add_user(&t.store, "admin.lee", Role::Admin, PASSWORD).await;
    login(client, server, "admin.lee", PASSWORD).await
}

async fn admin_post(client: &reqwest::Client, server: &TestServer, admin: &str, path: &str) -> StatusCode {
    client.post(server.url(path)).bearer_auth(admin).send().await.unwrap().status()
}

/// A request any signed-in user may make: 403 for a non-admin means the credential was accepted.
async fn session_status(client: &reqwest::Client, server: &TestServer, token: &str) -> StatusCode {
    client.get(server.url("/v1/admin/users")).bearer_auth(token).send().await.unwrap().status()
}

async fn staff_enrol_in_mfa_then_sign_in_with_a_code_or_a_recovery_code(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user_without_mfa(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();

    // The right password of a supervisor without MFA: enrolment required, no session.
    let reply = sign_in(&client, &server, "sgt.reyes", None).await;
    assert_eq!(reply.status(), StatusCode::ACCEPTED);
    let required: MfaEnrolmentRequired = reply.json().await.unwrap();
    let enrolment = required.enrolment_token;
    assert!(enrolment.starts_with("wpe_"));
    // The enrolment credential reaches nothing else.
    assert_eq!(session_status(&client, &server, &enrolment).await, StatusCode::UNAUTHORIZED);
    let confirm = |code: String| {
        client.post(server.url("/v1/mfa/enrolment/confirm")).bearer_auth(&enrolment).json(&json!({"code": code})).send()
    };
    assert_eq!(confirm("123456".into()).await.unwrap().status(), StatusCode::CONFLICT, "not started yet");

    let start: MfaEnrolmentStart = client
        .post(server.url("/v1/mfa/enrolment"))
        .bearer_auth(&enrolment)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(start.otpauth_url.starts_with("otpauth://totp/Waypoint:sgt.reyes?"), "{}", start.otpauth_url);
    assert!(start.otpauth_url.contains(&format!("secret={}", start.secret)));
    assert!(start.qr_png_base64.starts_with("iVBORw0KGgo"), "a base64 PNG");

    let wrong = if mfa::current_code(&start.secret) == "000000" { "111111" } else { "000000" };
    assert_eq!(confirm(wrong.into()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.store.user_account("sgt.reyes").await.unwrap().unwrap().failed_sign_ins, 1, "counted");
    let reply = confirm(mfa::current_code(&start.secret)).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let confirmed: MfaConfirmResponse = reply.json().await.unwrap();
    assert_eq!(confirmed.recovery_codes.len(), 10);
    assert_eq!(confirmed.session.role, Role::Supervisor);
    assert_eq!(session_status(&client, &server, &confirmed.session.session_token).await, StatusCode::FORBIDDEN);
    assert_eq!(confirm(mfa::current_code(&start.secret)).await.unwrap().status(), StatusCode::UNAUTHORIZED, "used up");
    let account = t.store.user_account("sgt.reyes").await.unwrap().unwrap();
    assert_eq!(account.totp_secret.as_deref(), Some(&*start.secret));
    assert_eq!(account.failed_sign_ins, 0);

    // Enrolled: the password alone asks for the code; a wrong code is a failed sign-in.
    let (status, error) = error_of(sign_in(&client, &server, "sgt.reyes", None).await).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::UNAUTHORIZED, waypoint_protocol::ERROR_MFA_REQUIRED));
    let (status, error) = error_of(sign_in(&client, &server, "sgt.reyes", Some(wrong)).await).await;
    assert_eq!(
        (status, error.error.as_str(), error.message.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized", SIGN_IN_FAILED)
    );
    assert_eq!(t.store.user_account("sgt.reyes").await.unwrap().unwrap().failed_sign_ins, 1);
    let code = mfa::current_code(&start.secret);
    assert_eq!(sign_in(&client, &server, "sgt.reyes", Some(&code)).await.status(), StatusCode::OK);
    assert_eq!(t.store.user_account("sgt.reyes").await.unwrap().unwrap().failed_sign_ins, 0);

    // A recovery code works once, typed in any case.
    let recovery = confirmed.recovery_codes[3].to_lowercase();
    let reply = sign_in(&client, &server, "sgt.reyes", Some(&recovery)).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let _: LoginResponse = reply.json().await.unwrap();
    assert_eq!(t.store.unused_recovery_codes("sgt.reyes").await.unwrap(), 9);
    let (status, error) = error_of(sign_in(&client, &server, "sgt.reyes", Some(&recovery)).await).await;
    assert_eq!((status, error.message.as_str()), (StatusCode::UNAUTHORIZED, SIGN_IN_FAILED), "spent");

    // An admin resets MFA (a lost phone): sessions end, the next sign-in enrols again.
    let admin = admin_session(&t, &client, &server).await;
    assert_eq!(
        admin_post(&client, &server, &admin, "/v1/admin/users/sgt.reyes/reset-mfa").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(session_status(&client, &server, &confirmed.session.session_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&client, &server, "sgt.reyes", Some(&code)).await.status(), StatusCode::ACCEPTED);
    assert_eq!(t.store.unused_recovery_codes("sgt.reyes").await.unwrap(), 0);
    assert_eq!(admin_post(&client, &server, &admin, "/v1/admin/users/nobody/reset-mfa").await, StatusCode::NOT_FOUND);
}

async fn officers_enrol_only_when_the_agency_requires_it(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let client = http_client();
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::OK, "off by default");
    let strict = Settings { mfa_required_for_officers: true, ..Settings::default() };
    let server = TestServer::start(t.store.clone(), strict).await;
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::ACCEPTED);
}

async fn five_failures_lock_until_expiry_or_an_admin_unlocks(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let lockout = Duration::from_secs(3);
    let settings = Settings { lockout_duration: chrono::Duration::from_std(lockout).unwrap(), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let client = http_client();
    let admin = admin_session(&t, &client, &server).await;
    let wrong = json!({"username": "officer.kim", "password": "not the passphrase"});
    let fail_five_times = || async {
        for attempt in 1..=5 {
            let reply = client.post(server.url("/v1/login")).json(&wrong).send().await.unwrap();
            assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        }
    };

    // Four failures do not lock; a success clears the count.
    for _ in 0..4 {
        client.post(server.url("/v1/login")).json(&wrong).send().await.unwrap();
    }
    assert_eq!(t.store.user_account("officer.kim").await.unwrap().unwrap().failed_sign_ins, 4);
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::OK);
    assert_eq!(t.store.user_account("officer.kim").await.unwrap().unwrap().failed_sign_ins, 0);

    fail_five_times().await;
    let (status, error) = error_of(sign_in(&client, &server, "officer.kim", None).await).await;
    assert_eq!(
        (status, error.message.as_str()),
        (StatusCode::UNAUTHORIZED, SIGN_IN_FAILED),
        "locked: right password refused"
    );
    let users: Vec<UserInfo> =
        client.get(server.url("/v1/admin/users")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let kim = users.iter().find(|u| u.username == "officer.kim").unwrap();
    assert!(kim.locked && kim.locked_until.is_some());
    assert_eq!(
        admin_post(&client, &server, &admin, "/v1/admin/users/officer.kim/unlock").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::OK, "unlocked by an admin");

    fail_five_times().await;
    let locked_at = Instant::now();
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::UNAUTHORIZED);
    tokio::time::sleep((lockout + Duration::from_millis(300)).saturating_sub(locked_at.elapsed())).await;
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::OK, "the lock expired");
}

async fn every_failed_sign_in_gets_the_same_answer(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    add_user(&t.store, "officer.locked", Role::Officer, PASSWORD).await;
    add_user(&t.store, "officer.gone", Role::Officer, PASSWORD).await;
    let now = chrono::Utc::now();
    for _ in 0..5 {
        t.store.record_failed_sign_in("officer.locked", now, 5, now + chrono::Duration::hours(1)).await.unwrap();
    }
    t.store.set_user_enabled("officer.gone", false).await.unwrap();
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    // Warm the dummy hash, so the first unknown user is not timed with its creation.
    sign_in(&client, &server, "nobody.warm", None).await;

    let mut answers = Vec::new();
    for (username, password) in [
        ("nobody", PASSWORD),
        ("officer.kim", "a wrong passphrase"),
        ("officer.locked", PASSWORD),
        ("officer.gone", PASSWORD),
    ] {
        let started = Instant::now();
        let reply = client
            .post(server.url("/v1/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let status = reply.status();
        let www_authenticate = reply.headers().get("www-authenticate").cloned();
        let body: Value = reply.json().await.unwrap();
        answers.push((username, status, www_authenticate, body, elapsed));
    }
    let (_, status, header, body, _) = &answers[0];
    assert_eq!(*status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, &json!({"error": "unauthorized", "message": SIGN_IN_FAILED}));
    for (username, other_status, other_header, other_body, _) in &answers[1..] {
        assert_eq!((other_status, other_header, other_body), (status, header, body), "{username} answered differently");
    }
    // Each did the Argon2 work: none answers in a fraction of another's time.
    let fastest = answers.iter().map(|a| a.4).min().unwrap();
    let slowest = answers.iter().map(|a| a.4).max().unwrap();
    assert!(slowest < fastest * 10, "timings {:?}", answers.iter().map(|a| (a.0, a.4)).collect::<Vec<_>>());
    // The locked account stayed locked; the disabled one gained nothing.
    assert!(t.store.user_account("officer.locked").await.unwrap().unwrap().is_locked(chrono::Utc::now()));
}

async fn sign_ins_beyond_the_rate_get_429_with_retry_after(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let (_, device_token) = enroll_device(&t.store).await;
    let settings =
        Settings { sign_in_rate: SignInRate { burst: 3, replenish: Duration::from_secs(60) }, ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let client = http_client();
    for _ in 0..3 {
        assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::OK);
    }
    let reply = sign_in(&client, &server, "officer.kim", None).await;
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = reply.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let error: ErrorBody = reply.json().await.unwrap();
    assert_eq!(error.error, waypoint_protocol::ERROR_RATE_LIMITED);
    // The same bucket covers enrolment; sync is not limited.
    let reply = client.post(server.url("/v1/enroll")).json(&json!({"code": "AAAA-BBBB-CCCC"})).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
    let pull = client.get(server.url("/v1/sync/pull")).bearer_auth(&device_token).send().await.unwrap();
    assert_eq!(pull.status(), StatusCode::OK);
}

async fn argon2_work_is_bounded_and_the_excess_gets_503(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let settings =
        Settings { password_work_permits: 1, password_work_wait: Duration::from_millis(1), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let client = http_client();
    let replies = futures_join_all((0..8).map(|_| sign_in(&client, &server, "officer.kim", None))).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status()).collect();
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    let busy: Vec<_> = replies.iter().filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "one permit, eight at once: {statuses:?}");
    assert!(busy.iter().all(|r| r.headers().contains_key("retry-after")));
    assert!(statuses.iter().all(|s| [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(s)), "{statuses:?}");
}

/// Runs the futures concurrently on this task, in order.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs = Vec::new();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, future) in pending.iter_mut().enumerate() {
            if let Some(f) = future {
                if let std::task::Poll::Ready(out) = f.as_mut().poll(cx) {
                    results[slot] = Some(out);
                    *future = None;
                }
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(results.into_iter().map(Option::unwrap));
    outputs
}

async fn logout_ends_the_session(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let (_, device_token) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let session = login(&client, &server, "officer.kim", PASSWORD).await;
    let other = login(&client, &server, "officer.kim", PASSWORD).await;
    let logout = |token: String| client.post(server.url("/v1/logout")).bearer_auth(token).send();
    assert_eq!(logout(session.clone()).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(session_status(&client, &server, &session).await, StatusCode::UNAUTHORIZED);
    assert_eq!(logout(session).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(session_status(&client, &server, &other).await, StatusCode::FORBIDDEN, "only that session ended");
    assert_eq!(logout(device_token).await.unwrap().status(), StatusCode::FORBIDDEN, "a device has no session");
}

async fn a_disabled_user_is_refused_at_once_and_can_be_enabled(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let admin = admin_session(&t, &client, &server).await;
    let session = login(&client, &server, "officer.kim", PASSWORD).await;
    assert_eq!(session_status(&client, &server, &session).await, StatusCode::FORBIDDEN);

    assert_eq!(
        admin_post(&client, &server, &admin, "/v1/admin/users/officer.kim/disable").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(session_status(&client, &server, &session).await, StatusCode::UNAUTHORIZED);
    let (status, error) = error_of(sign_in(&client, &server, "officer.kim", None).await).await;
    assert_eq!((status, error.message.as_str()), (StatusCode::UNAUTHORIZED, SIGN_IN_FAILED));
    assert!(!waypoint_server::auth::user_is_active(&t.store, "officer.kim").await.unwrap());
    assert_eq!(admin_post(&client, &server, &admin, "/v1/admin/users/admin.lee/disable").await, StatusCode::FORBIDDEN);

    assert_eq!(
        admin_post(&client, &server, &admin, "/v1/admin/users/officer.kim/enable").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        session_status(&client, &server, &session).await,
        StatusCode::UNAUTHORIZED,
        "the old session stays ended"
    );
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::OK);
    assert!(waypoint_server::auth::user_is_active(&t.store, "officer.kim").await.unwrap());
}

async fn a_revoked_device_is_told_so_and_cannot_rotate(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device_id, device_token) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let admin = admin_session(&t, &client, &server).await;
    let pull = || client.get(server.url("/v1/sync/pull")).bearer_auth(&device_token).send();
    assert_eq!(pull().await.unwrap().status(), StatusCode::OK);

    let path = format!("/v1/admin/devices/{device_id}/revoke");
    assert_eq!(admin_post(&client, &server, &admin, &path).await, StatusCode::NO_CONTENT);
    let (status, error) = error_of(pull().await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::UNAUTHORIZED, waypoint_protocol::ERROR_DEVICE_REVOKED));
    let reply = client.post(server.url("/v1/device/token")).bearer_auth(&device_token).send().await.unwrap();
    assert_eq!(error_of(reply).await.1.error, waypoint_protocol::ERROR_DEVICE_REVOKED);
    assert_eq!(admin_post(&client, &server, &admin, &path).await, StatusCode::NO_CONTENT, "again: no change");
    assert_eq!(
        admin_post(&client, &server, &admin, "/v1/admin/devices/no-such-device/revoke").await,
        StatusCode::NOT_FOUND
    );

    let devices: Vec<DeviceInfo> =
        client.get(server.url("/v1/admin/devices")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let device = devices.iter().find(|d| d.device_id == device_id).unwrap();
    assert!(device.revoked && device.revoked_at.is_some() && device.last_seen_at.is_some(), "{device:?}");
}

async fn a_device_rotates_its_token_and_the_old_one_stops(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (_, old_token) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let reply = client.post(server.url("/v1/device/token")).bearer_auth(&old_token).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let rotated: DeviceTokenRotation = reply.json().await.unwrap();
    assert!(rotated.device_token.starts_with("wpd_") && rotated.device_token != old_token);
    let pull = |token: &str| client.get(server.url("/v1/sync/pull")).bearer_auth(token.to_string()).send();
    let (status, error) = error_of(pull(&old_token).await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert_eq!(pull(&rotated.device_token).await.unwrap().status(), StatusCode::OK);
}

async fn sessions_end_when_idle_and_at_their_absolute_expiry(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let client = http_client();

    // Idle: used every 0.8 s it lives past its 2 s idle timeout; left 2.5 s it ends.
    let idle = Settings { session_idle_timeout: chrono::Duration::seconds(2), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), idle).await;
    let session = login(&client, &server, "officer.kim", PASSWORD).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(session_status(&client, &server, &session).await, StatusCode::FORBIDDEN, "in use");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, error) =
        error_of(client.get(server.url("/v1/admin/users")).bearer_auth(&session).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error.message.contains("without use"), "{}", error.message);

    // Absolute: ends at its lifetime however much it is used.
    let short = Settings { session_ttl: chrono::Duration::seconds(2), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), short).await;
    let session = login(&client, &server, "officer.kim", PASSWORD).await;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(session_status(&client, &server, &session).await, StatusCode::FORBIDDEN);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, error) =
        error_of(client.get(server.url("/v1/admin/users")).bearer_auth(&session).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error.message.contains("expired"), "{}", error.message);
}

async fn admin_endpoints_list_users_and_devices_and_need_the_admin_role(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
    let (device_id, device_token) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let admin = admin_session(&t, &client, &server).await;
    let supervisor = login(&client, &server, "sgt.reyes", PASSWORD).await;
    client.get(server.url("/v1/sync/pull")).bearer_auth(&device_token).send().await.unwrap();

    for (method, path) in [
        ("GET", "/v1/admin/users"),
        ("POST", "/v1/admin/users/officer.kim/disable"),
        ("POST", "/v1/admin/users/officer.kim/enable"),
        ("POST", "/v1/admin/users/officer.kim/unlock"),
        ("POST", "/v1/admin/users/officer.kim/reset-mfa"),
        ("GET", "/v1/admin/devices"),
        ("POST", "/v1/admin/devices/x/revoke"),
    ] {
        let request =
            |token: &str| client.request(method.parse().unwrap(), server.url(path)).bearer_auth(token.to_string());
        assert_eq!(request(&supervisor).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(request(&device_token).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
        let anonymous = client.request(method.parse().unwrap(), server.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let users: Vec<UserInfo> =
        client.get(server.url("/v1/admin/users")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let names: Vec<_> = users.iter().map(|u| (u.username.as_str(), u.role, u.mfa_enrolled)).collect();
    assert_eq!(
        names,
        [
            ("admin.lee", Role::Admin, true),
            ("officer.kim", Role::Officer, false),
            ("sgt.reyes", Role::Supervisor, true)
        ]
    );
    let reyes = &users[2];
    assert!(reyes.enabled && !reyes.locked && reyes.last_sign_in_at.is_some());
    assert!(users[1].last_sign_in_at.is_none(), "officer.kim never signed in");

    let devices: Vec<DeviceInfo> =
        client.get(server.url("/v1/admin/devices")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id, device_id);
    assert!(!devices[0].revoked && devices[0].last_seen_at.is_some());
}

async fn an_admin_resets_a_password_and_the_old_one_stops(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, PASSWORD).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let admin = admin_session(&t, &client, &server).await;
    let session = login(&client, &server, "officer.kim", PASSWORD).await;
    let reset = |password: &str| {
        client
            .post(server.url("/v1/admin/users/officer.kim/reset-password"))
            .bearer_auth(&admin)
            .json(&json!({"password": password}))
            .send()
    };
    assert_eq!(reset("short").await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reset("a brand new passphrase").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(session_status(&client, &server, &session).await, StatusCode::UNAUTHORIZED, "sessions ended");
    assert_eq!(sign_in(&client, &server, "officer.kim", None).await.status(), StatusCode::UNAUTHORIZED);
    login(&client, &server, "officer.kim", "a brand new passphrase").await;
}
