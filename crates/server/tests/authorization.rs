//! The authorization matrix: every route of the router x every kind of caller -> the status the
//! caller must get. The route list comes from `api::route_table()` (what the router is built
//! from), so a new route without an entry in [`access_of`] fails this test.
//!
//! A caller the route does not admit must get exactly 401 (no, bad, expired or revoked
//! credential) or 403 (a valid credential of the wrong kind or role), and get it before the body
//! is looked at. A caller it admits must get neither (the empty bodies sent here may well be 422).

mod common;

use common::*;
use reqwest::StatusCode;
use waypoint_protocol::Role;
use waypoint_server::Settings;

on_both_stores!(every_route_answers_every_caller_as_the_matrix_says);

/// Who a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone, with or without a credential.
    Public,
    /// An enrolled device's credential.
    Device,
    /// An enrolled device's credential and the credential of an officer signed in on it.
    DeviceOfficer,
    /// A user session of one of these roles.
    Users(&'static [Role]),
}

const REVIEWERS: &[Role] = &[Role::Supervisor, Role::Admin];
const ADMINS: &[Role] = &[Role::Admin];

/// The matrix's rows: who each route admits. Every route of the router must be here.
fn access_of(method: &str, path: &str) -> Option<Access> {
    use Access::*;
    Some(match (method, path) {
        ("GET", "/v1/health") | ("GET", "/openapi.json") => Public,
        ("POST", "/v1/enroll") | ("POST", "/v1/login") => Public,
        ("GET", "/v1/sync/pull") | ("GET", "/v1/directory/snapshot") => Device,
        ("POST", "/v1/sync/push") | ("POST", "/v1/officer/sign-out") => DeviceOfficer,
        ("POST", "/v1/reviews") | ("POST", "/v1/directory/capacity") => Users(REVIEWERS),
        ("GET", "/v1/review/queue")
        | ("GET", "/v1/review/encounters/{id}")
        | ("GET", "/v1/review/encounters/{id}/diff")
        | ("GET", "/v1/metrics") => Users(REVIEWERS),
        ("POST", "/v1/admin/enrollments") | ("GET", "/v1/admin/conflicts") => Users(ADMINS),
        _ => return None,
    })
}

/// The matrix's columns: every kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallerKind {
    Nobody,
    Garbage,
    UnknownDeviceToken,
    UnknownSession,
    ExpiredSession,
    Device,
    /// The device's credential and its signed-in officer's.
    DeviceWithOfficer,
    /// The device's credential and an officer credential issued to another device.
    DeviceWithForeignOfficer,
    Officer,
    Supervisor,
    Admin,
}

const CALLERS: &[CallerKind] = &[
    CallerKind::Nobody,
    CallerKind::Garbage,
    CallerKind::UnknownDeviceToken,
    CallerKind::UnknownSession,
    CallerKind::ExpiredSession,
    CallerKind::Device,
    CallerKind::DeviceWithOfficer,
    CallerKind::DeviceWithForeignOfficer,
    CallerKind::Officer,
    CallerKind::Supervisor,
    CallerKind::Admin,
];

/// What `caller` must get from a route that admits `access`: `None` when admitted (any status but
/// 401 and 403), else the refusal.
fn refusal(access: Access, caller: CallerKind) -> Option<StatusCode> {
    use CallerKind::*;
    let role = match caller {
        Officer => Some(Role::Officer),
        Supervisor => Some(Role::Supervisor),
        Admin => Some(Role::Admin),
        _ => None,
    };
    match (access, caller) {
        (Access::Public, _) => None,
        (_, Nobody | Garbage | UnknownDeviceToken | UnknownSession | ExpiredSession) => Some(StatusCode::UNAUTHORIZED),
        (Access::Device, Device | DeviceWithOfficer | DeviceWithForeignOfficer) => None,
        (Access::Device, _) => Some(StatusCode::FORBIDDEN),
        (Access::DeviceOfficer, DeviceWithOfficer) => None,
        // The device is known but no officer of its own is signed in: sign in (401).
        (Access::DeviceOfficer, Device | DeviceWithForeignOfficer) => Some(StatusCode::UNAUTHORIZED),
        (Access::DeviceOfficer, _) => Some(StatusCode::FORBIDDEN),
        (Access::Users(roles), _) if role.is_some_and(|r| roles.contains(&r)) => None,
        (Access::Users(_), _) => Some(StatusCode::FORBIDDEN),
    }
}

/// A concrete path for a route template (`{id}` and the like get a plausible value).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some("username") => "officer.kim".to_string(),
            Some(_) => uuid::Uuid::now_v7().to_string(),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_route_answers_every_caller_as_the_matrix_says(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, "officer passphrase").await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "supervisor passphrase").await;
    add_user(&t.store, "admin.ng", Role::Admin, "admin passphrase").await;
    let (device_id, device_token) = enroll_device(&t.store).await;
    let (other_device_id, _) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let officer = login(&client, &server, "officer.kim", "officer passphrase").await;
    let supervisor = login(&client, &server, "sgt.reyes", "supervisor passphrase").await;
    let admin = login(&client, &server, "admin.ng", "admin passphrase").await;
    let expired = "wps_expired-session-of-the-supervisor";
    t.store
        .add_session(
            &waypoint_server::auth::token_hash(expired),
            waypoint_server::store::SessionRecord {
                username: "sgt.reyes".into(),
                role: Role::Supervisor,
                expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            },
        )
        .await
        .unwrap();

    let token_of = |caller: CallerKind| -> Option<String> {
        match caller {
            CallerKind::Nobody => None,
            CallerKind::Garbage => Some("not a credential".into()),
            CallerKind::UnknownDeviceToken => Some(format!("wpd_{}", "0".repeat(64))),
            CallerKind::UnknownSession => Some(format!("wps_{}", "0".repeat(64))),
            CallerKind::ExpiredSession => Some(expired.into()),
            CallerKind::Device | CallerKind::DeviceWithOfficer | CallerKind::DeviceWithForeignOfficer => {
                Some(device_token.clone())
            }
            CallerKind::Officer => Some(officer.clone()),
            CallerKind::Supervisor => Some(supervisor.clone()),
            CallerKind::Admin => Some(admin.clone()),
        }
    };

    let routes = waypoint_server::api::route_table();
    let mut unlisted = Vec::new();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (method, path, _) in &routes {
        let Some(access) = access_of(method.as_str(), path) else {
            unlisted.push(format!("{method} {path}"));
            continue;
        };
        for &caller in CALLERS {
            let mut request = client.request(method.clone(), server.url(&concrete(path)));
            if let Some(token) = token_of(caller) {
                request = request.bearer_auth(token);
            }
            // A fresh officer credential each time: a sign-out cell revokes the one it used.
            let officer_on = match caller {
                CallerKind::DeviceWithOfficer => Some(&device_id),
                CallerKind::DeviceWithForeignOfficer => Some(&other_device_id),
                _ => None,
            };
            if let Some(on) = officer_on {
                request = request.header(OFFICER, officer_credential(&t.store, "officer.kim", on).await);
            }
            if *method != reqwest::Method::GET {
                request = request.json(&serde_json::json!({}));
            }
            let status = request.send().await.unwrap().status();
            let ok = match refusal(access, caller) {
                None => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                Some(expected) => status == expected,
            };
            if !ok {
                wrong.push(format!(
                    "{method} {path} as {caller:?}: got {status}, expected {}",
                    refusal(access, caller).map_or("neither 401 nor 403".to_string(), |s| s.to_string())
                ));
            }
            checked += 1;
        }
    }
    assert!(unlisted.is_empty(), "routes with no row in the authorization matrix: {unlisted:?}");
    assert!(wrong.is_empty(), "{} of {checked} cells are wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(checked, routes.len() * CALLERS.len());
}
