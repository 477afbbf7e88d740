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
    /// The short-lived credential of a user enrolling in MFA (nothing else).
    MfaEnrolment,
    /// Any live credential: a device's, a user session of any role, the records system's.
    AnyCredential,
    /// The agency records system's credential.
    RecordsSystem,
}

const REVIEWERS: &[Role] = &[Role::Supervisor, Role::Admin];
const ADMINS: &[Role] = &[Role::Admin];
const EVERY_ROLE: &[Role] = &[Role::Officer, Role::Supervisor, Role::Admin, Role::Analyst];
const FIGURE_READERS: &[Role] = &[Role::Supervisor, Role::Admin, Role::Analyst];

/// The matrix's rows: who each route admits. Every route of the router must be here.
fn access_of(method: &str, path: &str) -> Option<Access> {
    use Access::*;
    Some(match (method, path) {
        ("GET", "/v1/health") | ("GET", "/openapi.json") => Public,
        ("POST", "/v1/enroll") | ("POST", "/v1/login") => Public,
        ("GET", "/v1/sync/pull") | ("GET", "/v1/directory/snapshot") | ("POST", "/v1/sync/audit") => Device,
        ("POST", "/v1/sync/push") | ("POST", "/v1/officer/sign-out") => DeviceOfficer,
        ("POST", "/v1/reviews") | ("POST", "/v1/directory/capacity") => Users(REVIEWERS),
        ("GET", "/v1/review/queue")
        | ("GET", "/v1/review/counts")
        | ("GET", "/v1/review/encounters/{id}")
        | ("GET", "/v1/review/encounters/{id}/diff")
        | ("GET", "/v1/metrics") => Users(REVIEWERS),
        ("GET", "/v1/outcomes") | ("GET", "/v1/outcomes/rows") => Users(FIGURE_READERS),
        ("GET", "/v1/records/encounters") => RecordsSystem,
        ("POST", "/v1/logout") => Users(EVERY_ROLE),
        ("POST", "/v1/console/sign-in") => Public,
        ("POST", "/v1/console/adopt") | ("GET", "/v1/console/session") | ("POST", "/v1/console/sign-out") => {
            Users(EVERY_ROLE)
        }
        ("GET", "/v1/agency/config") => AnyCredential,
        ("POST", "/v1/device/token") => Device,
        ("POST", "/v1/mfa/enrolment") | ("POST", "/v1/mfa/enrolment/confirm") => MfaEnrolment,
        ("POST", "/v1/admin/enrollments")
        | ("GET", "/v1/admin/conflicts")
        | ("GET", "/v1/admin/users")
        | ("POST", "/v1/admin/users")
        | ("POST", "/v1/admin/users/{username}/role")
        | ("POST", "/v1/admin/users/{username}/disable")
        | ("POST", "/v1/admin/users/{username}/enable")
        | ("POST", "/v1/admin/users/{username}/unlock")
        | ("POST", "/v1/admin/users/{username}/reset-mfa")
        | ("POST", "/v1/admin/users/{username}/reset-password")
        | ("GET", "/v1/admin/devices")
        | ("POST", "/v1/admin/devices/{device_id}/revoke")
        | ("POST", "/v1/admin/devices/{device_id}/rotate")
        | ("GET", "/v1/admin/audit")
        | ("GET", "/v1/admin/audit/verify")
        | ("GET", "/v1/admin/audit/export")
        | ("GET", "/v1/admin/export")
        | ("PUT", "/v1/admin/config")
        | ("GET", "/v1/admin/config/versions")
        | ("POST", "/v1/admin/config/check")
        | ("GET", "/v1/admin/directory/imports")
        | ("GET", "/v1/admin/directory/services")
        | ("GET", "/v1/admin/directory/services/{service_id}/local-facts")
        | ("PUT", "/v1/admin/directory/services/{service_id}/local-facts")
        | ("GET", "/v1/admin/directory/conflicts")
        | ("GET", "/v1/admin/records/credentials")
        | ("POST", "/v1/admin/records/credentials")
        | ("POST", "/v1/admin/records/credentials/{name}/revoke")
        | ("GET", "/v1/admin/webhooks")
        | ("POST", "/v1/admin/webhooks")
        | ("POST", "/v1/admin/webhooks/{id}/disable")
        | ("POST", "/v1/admin/webhooks/{id}/enable")
        | ("GET", "/v1/admin/webhooks/deliveries")
        | ("POST", "/v1/admin/webhooks/deliveries/{id}/replay")
        | ("GET", "/v1/admin/training")
        | ("GET", "/v1/admin/training/summary")
        | ("POST", "/v1/admin/training")
        | ("POST", "/v1/admin/training/{id}/delete") => Users(ADMINS),
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
    /// A session unused for longer than the idle timeout.
    IdleSession,
    /// A session of a user an admin has disabled.
    DisabledUserSession,
    /// The credential of a device an admin has revoked.
    RevokedDevice,
    /// A live MFA enrolment credential.
    MfaEnrolmentToken,
    Device,
    /// The device's credential and its signed-in officer's.
    DeviceWithOfficer,
    /// The device's credential and an officer credential issued to another device.
    DeviceWithForeignOfficer,
    Officer,
    Supervisor,
    Admin,
    /// A read-only analyst: the outcome figures and nothing else.
    Analyst,
    /// The console's session cookie (with its CSRF header) of an officer, a supervisor, an admin.
    OfficerCookie,
    SupervisorCookie,
    AdminCookie,
    AnalystCookie,
    /// An admin's console cookie without the CSRF header: reads only.
    AdminCookieWithoutCsrf,
    /// A device token where the console's session cookie goes.
    DeviceTokenInCookie,
    /// The records system's live credential, a revoked one, an unknown one, and a live one where
    /// the console's session cookie goes.
    RecordsSystem,
    RevokedRecordsSystem,
    UnknownRecordsToken,
    RecordsTokenInCookie,
}

const CALLERS: &[CallerKind] = &[
    CallerKind::Nobody,
    CallerKind::Garbage,
    CallerKind::UnknownDeviceToken,
    CallerKind::UnknownSession,
    CallerKind::ExpiredSession,
    CallerKind::IdleSession,
    CallerKind::DisabledUserSession,
    CallerKind::RevokedDevice,
    CallerKind::MfaEnrolmentToken,
    CallerKind::Device,
    CallerKind::DeviceWithOfficer,
    CallerKind::DeviceWithForeignOfficer,
    CallerKind::Officer,
    CallerKind::Supervisor,
    CallerKind::Admin,
    CallerKind::Analyst,
    CallerKind::AnalystCookie,
    CallerKind::OfficerCookie,
    CallerKind::SupervisorCookie,
    CallerKind::AdminCookie,
    CallerKind::AdminCookieWithoutCsrf,
    CallerKind::DeviceTokenInCookie,
    CallerKind::RecordsSystem,
    CallerKind::RevokedRecordsSystem,
    CallerKind::UnknownRecordsToken,
    CallerKind::RecordsTokenInCookie,
];

/// What `caller` must get from a route that admits `access`: `None` when admitted (any status but
/// 401 and 403), else the refusal.
fn refusal(access: Access, method: &reqwest::Method, caller: CallerKind) -> Option<StatusCode> {
    use CallerKind::*;
    let role = match caller {
        Officer | OfficerCookie => Some(Role::Officer),
        Supervisor | SupervisorCookie => Some(Role::Supervisor),
        Admin | AdminCookie | AdminCookieWithoutCsrf => Some(Role::Admin),
        Analyst | AnalystCookie => Some(Role::Analyst),
        _ => None,
    };
    match (access, caller) {
        (Access::Public, _) => None,
        // The enrolment credential is a bearer token; a cookie is none.
        (Access::MfaEnrolment, MfaEnrolmentToken) => None,
        (Access::MfaEnrolment, _) => Some(StatusCode::UNAUTHORIZED),
        (_, DeviceTokenInCookie | RecordsTokenInCookie) => Some(StatusCode::UNAUTHORIZED),
        // A cookie change without the CSRF header stops at the credential, whatever the route.
        (_, AdminCookieWithoutCsrf) if *method != reqwest::Method::GET => Some(StatusCode::FORBIDDEN),
        (Access::AnyCredential, Device | DeviceWithOfficer | DeviceWithForeignOfficer) => None,
        (Access::AnyCredential, _) if role.is_some() => None,
        // The records system reads the agency configuration: the vocabularies its codes come from.
        (Access::AnyCredential, RecordsSystem) => None,
        (
            _,
            Nobody | Garbage | UnknownDeviceToken | UnknownSession | ExpiredSession | IdleSession | DisabledUserSession
            | RevokedDevice | MfaEnrolmentToken | RevokedRecordsSystem | UnknownRecordsToken,
        ) => Some(StatusCode::UNAUTHORIZED),
        (Access::RecordsSystem, RecordsSystem) => None,
        (Access::RecordsSystem, _) => Some(StatusCode::FORBIDDEN),
        (Access::Device, Device | DeviceWithOfficer | DeviceWithForeignOfficer) => None,
        (Access::Device, _) => Some(StatusCode::FORBIDDEN),
        (Access::DeviceOfficer, DeviceWithOfficer) => None,
        // The device is known but no officer of its own is signed in: sign in (401).
        (Access::DeviceOfficer, Device | DeviceWithForeignOfficer) => Some(StatusCode::UNAUTHORIZED),
        (Access::DeviceOfficer, _) => Some(StatusCode::FORBIDDEN),
        (Access::Users(roles), _) if role.is_some_and(|r| roles.contains(&r)) => None,
        (Access::Users(_), _) => Some(StatusCode::FORBIDDEN),
        // Every live credential is admitted above; what is left is no credential.
        (Access::AnyCredential, _) => Some(StatusCode::UNAUTHORIZED),
    }
}

/// A concrete path for a route template (`{id}` and the like get a plausible value).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            // A user of its own: the admin cells disable it, reset its password and MFA.
            Some("username") => "target.user".to_string(),
            Some(_) => uuid::Uuid::now_v7().to_string(),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Mints credentials straight through the store, fresh for every cell: a cell may end the one it
/// uses (logout, token rotation, sign-out), and the next must not notice.
struct Minter {
    store: waypoint_server::store::SharedStore,
    /// The device a foreign officer credential belongs to.
    other_device_id: String,
}

impl Minter {
    async fn session(&self, username: &str, role: Role, last_used: chrono::DateTime<chrono::Utc>) -> String {
        let token = waypoint_server::auth::new_session_token();
        let hash = waypoint_server::auth::token_hash(&token);
        let expires_at = chrono::Utc::now() + chrono::Duration::hours(1);
        let record = waypoint_server::store::SessionRecord { username: username.into(), role, expires_at };
        self.store.add_session(&hash, record).await.unwrap();
        self.store.touch_session(&hash, last_used).await.unwrap();
        token
    }

    /// A new records-system credential (revoked at once when `revoked`).
    async fn records_token(&self, revoked: bool) -> String {
        let token = waypoint_server::auth::new_records_token();
        let name = format!("rms-{}", uuid::Uuid::now_v7().simple());
        let now = chrono::Utc::now();
        self.store
            .add_api_credential(&name, &waypoint_server::auth::token_hash(&token), "admin.ng", now)
            .await
            .unwrap();
        if revoked {
            assert!(self.store.revoke_api_credential(&name, now).await.unwrap());
        }
        token
    }

    /// The session cookie of one request as `caller`, and whether it carries its CSRF header.
    async fn cookie(&self, caller: CallerKind) -> Option<(String, bool)> {
        use CallerKind::*;
        let now = chrono::Utc::now();
        Some(match caller {
            OfficerCookie => (self.session("officer.kim", Role::Officer, now).await, true),
            SupervisorCookie => (self.session("sgt.reyes", Role::Supervisor, now).await, true),
            AdminCookie => (self.session("admin.ng", Role::Admin, now).await, true),
            AdminCookieWithoutCsrf => (self.session("admin.ng", Role::Admin, now).await, false),
            AnalystCookie => (self.session("analyst.li", Role::Analyst, now).await, true),
            DeviceTokenInCookie => (enroll_device(&self.store).await.1, true),
            RecordsTokenInCookie => (self.records_token(false).await, true),
            _ => return None,
        })
    }

    /// The bearer token of one request as `caller`.
    async fn bearer(&self, caller: CallerKind) -> Option<String> {
        use CallerKind::*;
        let now = chrono::Utc::now();
        let bearer = match caller {
            Nobody => None,
            Garbage => Some("not a credential".into()),
            UnknownDeviceToken => Some(format!("wpd_{}", "0".repeat(64))),
            UnknownSession => Some(format!("wps_{}", "0".repeat(64))),
            ExpiredSession => {
                let token = waypoint_server::auth::new_session_token();
                let record = waypoint_server::store::SessionRecord {
                    username: "sgt.reyes".into(),
                    role: Role::Supervisor,
                    expires_at: now - chrono::Duration::minutes(1),
                };
                self.store.add_session(&waypoint_server::auth::token_hash(&token), record).await.unwrap();
                Some(token)
            }
            IdleSession => Some(self.session("sgt.reyes", Role::Supervisor, now - chrono::Duration::hours(2)).await),
            DisabledUserSession => Some(self.session("disabled.user", Role::Admin, now).await),
            RevokedDevice => {
                let (device_id, token) = enroll_device(&self.store).await;
                self.store.revoke_device(&device_id, now).await.unwrap();
                Some(token)
            }
            MfaEnrolmentToken => {
                let token =
                    format!("{}{}", waypoint_server::auth::MFA_ENROLMENT_TOKEN_PREFIX, uuid::Uuid::now_v7().simple());
                let hash = waypoint_server::auth::token_hash(&token);
                self.store
                    .add_mfa_enrolment(&hash, "enrolling.user", now + chrono::Duration::minutes(5))
                    .await
                    .unwrap();
                Some(token)
            }
            // Made by the caller of this: a device of its own per cell.
            Device | DeviceWithOfficer | DeviceWithForeignOfficer => None,
            Officer => Some(self.session("officer.kim", Role::Officer, now).await),
            Supervisor => Some(self.session("sgt.reyes", Role::Supervisor, now).await),
            Admin => Some(self.session("admin.ng", Role::Admin, now).await),
            Analyst => Some(self.session("analyst.li", Role::Analyst, now).await),
            RecordsSystem => Some(self.records_token(false).await),
            RevokedRecordsSystem => Some(self.records_token(true).await),
            UnknownRecordsToken => Some(format!("wpr_{}", "0".repeat(64))),
            RecordsTokenInCookie
            | OfficerCookie
            | SupervisorCookie
            | AdminCookie
            | AnalystCookie
            | AdminCookieWithoutCsrf
            | DeviceTokenInCookie => None,
        };
        bearer
    }
}

async fn every_route_answers_every_caller_as_the_matrix_says(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "officer.kim", Role::Officer, "officer passphrase").await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "supervisor passphrase").await;
    add_user(&t.store, "admin.ng", Role::Admin, "admin passphrase").await;
    add_user(&t.store, "analyst.li", Role::Analyst, "analyst passphrase").await;
    add_user(&t.store, "target.user", Role::Officer, "target passphrase").await;
    add_user(&t.store, "disabled.user", Role::Admin, "disabled passphrase").await;
    add_user_without_mfa(&t.store, "enrolling.user", Role::Supervisor, "enrolling passphrase").await;
    t.store.set_user_enabled("disabled.user", false).await.unwrap();
    let (other_device_id, _) = enroll_device(&t.store).await;
    let minter = Minter { store: t.store.clone(), other_device_id };
    let mut settings = Settings::default();
    // The matrix signs in and enrols far more often than a person: no 429 in its way.
    settings.sign_in_rate.burst = 100_000;
    let server = TestServer::start(t.store.clone(), settings).await;
    let client = http_client();

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
            let mut bearer = minter.bearer(caller).await;
            // Device cells: a device of its own each time (a rotation or sign-out cell ends what
            // it used); the officer credential is for that device, or for another one.
            let mut officer = None;
            if matches!(
                caller,
                CallerKind::Device | CallerKind::DeviceWithOfficer | CallerKind::DeviceWithForeignOfficer
            ) {
                let (device_id, token) = enroll_device(&t.store).await;
                bearer = Some(token);
                officer = match caller {
                    CallerKind::DeviceWithOfficer => {
                        Some(officer_credential(&t.store, "officer.kim", &device_id).await)
                    }
                    CallerKind::DeviceWithForeignOfficer => {
                        Some(officer_credential(&t.store, "officer.kim", &minter.other_device_id).await)
                    }
                    _ => None,
                };
            }
            let mut request = client.request(method.clone(), server.url(&concrete(path)));
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            if let Some(officer) = officer {
                request = request.header(OFFICER, officer);
            }
            if let Some((token, with_csrf)) = minter.cookie(caller).await {
                if with_csrf {
                    request = request.header(waypoint_protocol::CSRF_HEADER, waypoint_server::auth::csrf_token(&token));
                }
                request =
                    request.header(reqwest::header::COOKIE, format!("{}={token}", waypoint_protocol::SESSION_COOKIE));
            }
            if *method != reqwest::Method::GET {
                request = request.json(&serde_json::json!({}));
            }
            let status = request.send().await.unwrap().status();
            let ok = match refusal(access, method, caller) {
                None => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                Some(expected) => status == expected,
            };
            if !ok {
                wrong.push(format!(
                    "{method} {path} as {caller:?}: got {status}, expected {}",
                    refusal(access, method, caller).map_or("neither 401 nor 403".to_string(), |s| s.to_string())
                ));
            }
            checked += 1;
        }
    }
    assert!(unlisted.is_empty(), "routes with no row in the authorization matrix: {unlisted:?}");
    assert!(wrong.is_empty(), "{} of {checked} cells are wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(checked, routes.len() * CALLERS.len());
}
