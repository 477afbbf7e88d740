//! The console's session and the headers it is served with: the cookie's flags, the CSRF lock on
//! cookie-authenticated changes, the CSP on every response, sign-out, roles through the cookie,
//! and the console's files (or the page that says how to build them).

mod common;

use common::*;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;
use waypoint_protocol::{ConsoleSession, Role, CSRF_HEADER, ERROR_CSRF, SESSION_COOKIE};
use waypoint_server::console_assets::CONTENT_SECURITY_POLICY as CSP;
use waypoint_server::Settings;

const PASSWORD: &str = "correct horse battery";

struct Console {
    _store: TestStore,
    server: TestServer,
    client: reqwest::Client,
}

async fn console(backend: Backend) -> Console {
    let store = TestStore::new(backend).await;
    add_user(&store.store, "sergeant", Role::Supervisor, PASSWORD).await;
    add_user(&store.store, "admin", Role::Admin, PASSWORD).await;
    add_user(&store.store, "officer", Role::Officer, PASSWORD).await;
    let server = TestServer::start(store.store.clone(), Settings::default()).await;
    Console { _store: store, server, client: http_client() }
}

/// Signs in through the console; returns the `Set-Cookie` header, the cookie to send and the session.
async fn sign_in(c: &Console, username: &str) -> (String, String, ConsoleSession) {
    let reply = c
        .client
        .post(c.server.url("/v1/console/sign-in"))
        .json(&json!({"username": username, "password": PASSWORD, "totp": test_totp_code(username)}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "console sign-in of {username}");
    let set_cookie = reply.headers().get(SET_COOKIE).expect("a session cookie").to_str().unwrap().to_string();
    let pair = set_cookie.split(';').next().unwrap().trim().to_string();
    let session: ConsoleSession = reply.json().await.unwrap();
    (set_cookie, pair, session)
}

async fn the_session_cookie_is_httponly_secure_and_samesite_strict(backend: Backend) {
    let c = console(backend).await;
    let (set_cookie, pair, session) = sign_in(&c, "sergeant").await;
    assert!(pair.starts_with(&format!("{SESSION_COOKIE}=wps_")), "{set_cookie}");
    let attributes: Vec<String> = set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    for wanted in ["httponly", "secure", "samesite=strict", "path=/"] {
        assert!(attributes.iter().any(|a| a == wanted), "{wanted} missing from {set_cookie}");
    }
    assert!(attributes.iter().any(|a| a.starts_with("max-age=")), "{set_cookie}");
    assert_eq!(session.username, "sergeant");
    assert_eq!(session.role, Role::Supervisor);
    assert_eq!(session.csrf_token.len(), 64);

    // The cookie alone signs a read in; the session names the same CSRF token.
    let reply = c.client.get(c.server.url("/v1/console/session")).header(COOKIE, &pair).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let again: ConsoleSession = reply.json().await.unwrap();
    assert_eq!(again.csrf_token, session.csrf_token);
    let queue = c.client.get(c.server.url("/v1/review/queue")).header(COOKIE, &pair).send().await.unwrap();
    assert_eq!(queue.status(), StatusCode::OK);
}

async fn a_cookie_change_without_the_csrf_token_is_refused(backend: Backend) {
    let c = console(backend).await;
    let (_, pair, session) = sign_in(&c, "admin").await;
    let enrol = |csrf: Option<&str>| {
        let mut request = c.client.post(c.server.url("/v1/admin/enrollments")).header(COOKIE, &pair);
        if let Some(csrf) = csrf {
            request = request.header(CSRF_HEADER, csrf);
        }
        request.send()
    };
    for wrong in [None, Some(""), Some("0".repeat(64).as_str()), Some(&session.csrf_token[1..])] {
        let reply = enrol(wrong).await.unwrap();
        assert_eq!(reply.status(), StatusCode::FORBIDDEN, "CSRF token {wrong:?}");
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["error"], ERROR_CSRF, "{body}");
        assert!(body["message"].as_str().unwrap().contains(CSRF_HEADER), "{body}");
    }
    let reply = enrol(Some(&session.csrf_token)).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "the right CSRF token lets the change through");

    // Another session's token does not fit this one.
    let (_, _, other) = sign_in(&c, "admin").await;
    assert_ne!(other.csrf_token, session.csrf_token);
    assert_eq!(enrol(Some(&other.csrf_token)).await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn an_officer_s_cookie_opens_no_supervisor_or_admin_route(backend: Backend) {
    let c = console(backend).await;
    let (_, pair, session) = sign_in(&c, "officer").await;
    assert_eq!(session.role, Role::Officer);
    for path in ["/v1/review/queue", "/v1/metrics", "/v1/admin/users", "/v1/admin/devices", "/v1/admin/conflicts"] {
        let reply = c.client.get(c.server.url(path)).header(COOKIE, &pair).send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let reply = c
        .client
        .post(c.server.url("/v1/admin/enrollments"))
        .header(COOKIE, &pair)
        .header(CSRF_HEADER, &session.csrf_token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
}

async fn sign_out_ends_the_session_and_clears_the_cookie(backend: Backend) {
    let c = console(backend).await;
    let (_, pair, session) = sign_in(&c, "sergeant").await;
    let without_csrf = c.client.post(c.server.url("/v1/console/sign-out")).header(COOKIE, &pair).send().await.unwrap();
    assert_eq!(without_csrf.status(), StatusCode::FORBIDDEN, "sign-out is a change: it needs the CSRF token");
    let reply = c
        .client
        .post(c.server.url("/v1/console/sign-out"))
        .header(COOKIE, &pair)
        .header(CSRF_HEADER, &session.csrf_token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    let cleared = reply.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cleared.starts_with(&format!("{SESSION_COOKIE}=;")) && cleared.contains("Max-Age=0"), "{cleared}");
    let after = c.client.get(c.server.url("/v1/console/session")).header(COOKIE, &pair).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

async fn the_cookie_carries_user_sessions_only(backend: Backend) {
    let c = console(backend).await;
    let (_, device_token) = enroll_device(&c._store.store).await;
    let reply = c
        .client
        .get(c.server.url("/v1/sync/pull"))
        .header(COOKIE, format!("{SESSION_COOKIE}={device_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "a device token in the cookie is not a credential");
    let none = c.client.get(c.server.url("/v1/console/session")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
}

async fn a_bearer_session_moves_into_the_cookie(backend: Backend) {
    let c = console(backend).await;
    let token = login(&c.client, &c.server, "sergeant", PASSWORD).await;
    let reply = c.client.post(c.server.url("/v1/console/adopt")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let set_cookie = reply.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(set_cookie.contains(&token) && set_cookie.contains("HttpOnly"), "{set_cookie}");
    // The session list says where it is used now: the console, not a script.
    let sessions = c._store.store.live_sessions(chrono::Utc::now()).await.unwrap();
    let adopted: Vec<_> = sessions.iter().filter(|s| s.username == "sergeant").map(|s| s.origin).collect();
    assert_eq!(adopted, vec![waypoint_protocol::SessionOrigin::Console], "{sessions:?}");
}

async fn every_response_carries_the_strict_csp(backend: Backend) {
    let c = console(backend).await;
    for path in ["/v1/health", "/console/", "/v1/review/queue", "/no/such/path"] {
        let reply = c.client.get(c.server.url(path)).send().await.unwrap();
        let csp = reply.headers().get(CONTENT_SECURITY_POLICY).unwrap_or_else(|| panic!("no CSP on {path}"));
        assert_eq!(csp.to_str().unwrap(), CSP, "{path}");
        assert_eq!(reply.headers().get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(reply.headers().get("x-content-type-options").unwrap(), "nosniff", "{path}");
    }
    assert!(CSP.contains("script-src 'self'") && !CSP.contains("unsafe"), "{CSP}");
}

/// `/console/` serves the built console and its assets; without a build (no Node) it says how
/// to build it. Which of the two this checkout has is read from `ui/dist`, not assumed.
async fn the_console_is_served_or_says_how_to_build_it(backend: Backend) {
    let c = console(backend).await;
    let root = c.client.get(c.server.url("/")).send().await.unwrap();
    assert_eq!(root.url().path(), "/console/", "/ leads to the console");
    let reply = c.client.get(c.server.url("/console/")).send().await.unwrap();
    let status = reply.status();
    assert!(reply.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = reply.text().await.unwrap();
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist/console.html").exists();
    if !built {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.contains("npm run build"), "{page}");
        return;
    }
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>"), "no inline script under the CSP");
    let script = page
        .split("src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|src| src.ends_with(".js"))
        .expect("console.html loads a script");
    let url = c.server.url(&format!("/console/{}", script.trim_start_matches("./")));
    let asset = c.client.get(&url).send().await.unwrap();
    assert_eq!(asset.status(), StatusCode::OK, "{url}");
    assert!(asset.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert!(asset.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let missing = c.client.get(c.server.url("/console/assets/no-such-file.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

on_both_stores!(
    the_session_cookie_is_httponly_secure_and_samesite_strict,
    a_cookie_change_without_the_csrf_token_is_refused,
    an_officer_s_cookie_opens_no_supervisor_or_admin_route,
    sign_out_ends_the_session_and_clears_the_cookie,
    the_cookie_carries_user_sessions_only,
    a_bearer_session_moves_into_the_cookie,
    every_response_carries_the_strict_csp,
    the_console_is_served_or_says_how_to_build_it,
);
