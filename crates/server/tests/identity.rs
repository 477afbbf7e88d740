//! Identity on every pushed record (both stores): a push needs the device credential and an
//! officer credential of that device; each record must be the signed-in officer's, from that
//! device, claiming no review state; later versions of an encounter come only from its author.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;
use waypoint_protocol::{
    AckStatus, EnrollResponse, ErrorBody, LoginResponse, PushRecord, PushRequest, PushResponse, RecordAck, Role,
    OFFICER_TOKEN_PREFIX, SIGN_IN_REQUIRED,
};
use waypoint_server::store::{Pusher, SharedStore};
use waypoint_server::validation::{check_records, check_records_from};
use waypoint_server::Settings;

on_both_stores!(
    a_record_naming_someone_else_or_claiming_a_review_is_rejected_and_the_rest_stored,
    later_versions_come_only_from_the_officer_and_device_that_filed_the_encounter,
    several_versions_in_one_push_and_rivals_in_one_group_commit,
    a_push_without_an_officer_credential_of_this_device_is_401,
    two_officers_on_one_device_each_push_their_own,
    login_from_a_device_issues_a_device_bound_officer_credential,
    revoking_officer_credentials_by_user_by_device_or_both,
    a_device_enrols_under_the_id_it_made,
    an_agency_can_let_a_role_amend_others_reports,
);

/// `body` with `field` set to `value`, re-hashed (as a dishonest but careful client would send it).
fn with(record: &PushRecord, field: &str, value: serde_json::Value) -> PushRecord {
    let mut body = record.body.clone();
    body[field] = value;
    PushRecord::new(record.encounter_id, record.version, record.seq, body)
}

async fn push_http(
    client: &reqwest::Client,
    server: &TestServer,
    who: &SignedIn,
    records: Vec<PushRecord>,
) -> Vec<RecordAck> {
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&who.device_token)
        .header(OFFICER, &who.officer_token)
        .json(&PushRequest { records })
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json::<PushResponse>().await.unwrap().acks
}

fn statuses(acks: &[RecordAck]) -> Vec<AckStatus> {
    acks.iter().map(|a| a.status).collect()
}

fn reason(ack: &RecordAck) -> &str {
    ack.reason.as_deref().unwrap_or_default()
}

async fn held(store: &SharedStore) -> Vec<(Uuid, u32, String, String)> {
    let mut held: Vec<_> = store
        .versions_since(None)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.encounter_id, v.version, v.officer, v.device_id))
        .collect();
    held.sort();
    held
}

async fn a_record_naming_someone_else_or_claiming_a_review_is_rejected_and_the_rest_stored(backend: Backend) {
    let t = TestStore::new(backend).await;
    let diaz = signed_in_device(&t.store, "ofc.diaz").await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();

    let good = diaz.record(Uuid::now_v7(), 1, 1, "talked down");
    let other_officer = with(&diaz.record(Uuid::now_v7(), 1, 2, "filed as okafor"), "officer_id", json!("ofc.okafor"));
    let other_device = with(&diaz.record(Uuid::now_v7(), 1, 3, "from another car"), "device_id", json!("car-99"));
    let approved = with(&diaz.record(Uuid::now_v7(), 1, 4, "self-approved"), "status", json!("approved"));
    let returned = with(&diaz.record(Uuid::now_v7(), 1, 5, "self-returned"), "status", json!("returned"));
    let review = json!({"decision": "approved", "comment": null, "reviewer": "ofc.diaz", "at": "2026-12-01T00:00:00Z"});
    let reviewed = with(&diaz.record(Uuid::now_v7(), 1, 6, "carries a review"), "review", review);
    let also_good = diaz.record(Uuid::now_v7(), 1, 7, "welfare check");
    let records = vec![good.clone(), other_officer, other_device, approved, returned, reviewed, also_good.clone()];
    let acks = push_http(&client, &server, &diaz, records).await;
    use AckStatus::*;
    assert_eq!(statuses(&acks), [Stored, Rejected, Rejected, Rejected, Rejected, Rejected, Stored], "{acks:?}");
    assert!(reason(&acks[1]).contains("names officer ofc.okafor but officer ofc.diaz is signed in"), "{acks:?}");
    assert!(reason(&acks[2]).contains(&format!("names device car-99 but was sent by device {}", diaz.device_id)));
    assert!(reason(&acks[3]).contains("claims to be approved"), "{}", reason(&acks[3]));
    assert!(reason(&acks[4]).contains("claims to be returned"), "{}", reason(&acks[4]));
    assert!(reason(&acks[5]).contains("carries a review"), "{}", reason(&acks[5]));
    let stored = held(&t.store).await;
    let mut expected = vec![
        (good.encounter_id, 1, "ofc.diaz".to_string(), diaz.device_id.clone()),
        (also_good.encounter_id, 1, "ofc.diaz".to_string(), diaz.device_id.clone()),
    ];
    expected.sort();
    assert_eq!(stored, expected, "stored with the authenticated author");
}

async fn later_versions_come_only_from_the_officer_and_device_that_filed_the_encounter(backend: Backend) {
    let t = TestStore::new(backend).await;
    let diaz = signed_in_device(&t.store, "ofc.diaz").await;
    // The same officer on another car, and another officer on the same car.
    let diaz_elsewhere = sign_in_on(&t.store, &enroll_device(&t.store).await, "ofc.diaz", "ofc.diaz").await;
    add_user(&t.store, "ofc.okafor", Role::Officer, "a long passphrase").await;
    let okafor_same_car =
        sign_in_on(&t.store, &(diaz.device_id.clone(), diaz.device_token.clone()), "ofc.okafor", "ofc.okafor").await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let id = Uuid::now_v7();
    assert_eq!(
        statuses(&push_http(&client, &server, &diaz, vec![diaz.record(id, 1, 1, "first")]).await),
        [AckStatus::Stored]
    );

    let neighbour = diaz.record(Uuid::now_v7(), 1, 1, "unrelated, stored");
    let acks = push_http(
        &client,
        &server,
        &diaz_elsewhere,
        vec![
            diaz_elsewhere.record(id, 2, 1, "amended from another car"),
            diaz_elsewhere.record(neighbour.encounter_id, 1, 2, "unrelated, stored"),
        ],
    )
    .await;
    assert_eq!(statuses(&acks), [AckStatus::Rejected, AckStatus::Stored], "{acks:?}");
    assert!(reason(&acks[0]).contains("filed from another device"), "{}", reason(&acks[0]));

    let okafor_own = Uuid::now_v7();
    let acks = push_http(
        &client,
        &server,
        &okafor_same_car,
        vec![
            okafor_same_car.record(id, 2, 1, "amended by another officer"),
            okafor_same_car.record(okafor_own, 1, 2, "okafor's own"),
            // Even a copy of version 1 (other content): not a conflict row, a refusal.
            okafor_same_car.record(id, 1, 3, "a rival version 1"),
        ],
    )
    .await;
    use AckStatus::*;
    assert_eq!(statuses(&acks), [Rejected, Stored, Rejected], "{acks:?}");
    assert!(reason(&acks[0]).contains("filed by another officer"), "{}", reason(&acks[0]));
    assert!(t.store.conflicts().await.unwrap().is_empty(), "nothing of theirs kept beside it");

    // The author amends: accepted.
    let acks = push_http(&client, &server, &diaz, vec![diaz.record(id, 2, 2, "amended by its author")]).await;
    assert_eq!(statuses(&acks), [Stored]);
    let versions: Vec<_> = held(&t.store).await.into_iter().filter(|v| v.0 == id).collect();
    assert_eq!(versions.len(), 2);
    assert!(versions.iter().all(|v| v.2 == "ofc.diaz" && v.3 == diaz.device_id), "{versions:?}");
}

/// Inside one transaction: versions 1-3 of a new encounter in one push are all the pusher's; in a
/// group of pushes committed together, one pusher owns a new encounter and the other's records of
/// it are refused (whichever comes first), never both stored.
async fn several_versions_in_one_push_and_rivals_in_one_group_commit(backend: Backend) {
    let t = TestStore::new(backend).await;
    let diaz = signed_in_device(&t.store, "ofc.diaz").await;
    let okafor = signed_in_device(&t.store, "ofc.okafor").await;
    let id = Uuid::now_v7();
    let versions = (1..=3).map(|v| diaz.record(id, v, u64::from(v), "three versions at once")).collect();
    let reply = t.store.push(&diaz.pusher(), check_records_from(versions, &diaz.pusher())).await.unwrap();
    assert!(reply.acks.iter().all(|a| a.status == AckStatus::Stored), "{reply:?}");

    for round in 0..6u64 {
        let contested = Uuid::now_v7();
        let mut pushes = tokio::task::JoinSet::new();
        for (n, who) in [&diaz, &okafor, &diaz, &okafor].into_iter().enumerate() {
            let (store, who) = (t.store.clone(), who.clone());
            let records = vec![who.record(contested, 1 + n as u32 / 2, round * 10 + n as u64, "contested")];
            pushes.spawn(async move {
                let acks = store.push(&who.pusher(), check_records_from(records, &who.pusher())).await.unwrap().acks;
                (who.username, acks[0].status)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = pushes.join_next().await {
            outcomes.push(done.unwrap());
        }
        let stored: Vec<_> = held(&t.store).await.into_iter().filter(|v| v.0 == contested).collect();
        let owner = &stored.first().expect("someone's version stored").2;
        assert!(stored.iter().all(|v| &v.2 == owner), "one owner per encounter: {stored:?}");
        for (who, status) in &outcomes {
            let expected = if who == owner { AckStatus::Stored } else { AckStatus::Rejected };
            assert_eq!(*status, expected, "{who} in round {round}: {outcomes:?}");
        }
        assert!(t.store.conflicts().await.unwrap().is_empty());
    }
}

async fn a_push_without_an_officer_credential_of_this_device_is_401(backend: Backend) {
    let t = TestStore::new(backend).await;
    let diaz = signed_in_device(&t.store, "ofc.diaz").await;
    let okafor = signed_in_device(&t.store, "ofc.okafor").await;
    let revoked = officer_credential(&t.store, "ofc.diaz", &diaz.device_id).await;
    t.store.revoke_officer_credentials(Some("ofc.diaz"), Some(&diaz.device_id)).await.unwrap();
    let diaz = sign_in_on(&t.store, &(diaz.device_id.clone(), diaz.device_token.clone()), "ofc.diaz", "ofc.diaz").await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let push = PushRequest { records: vec![diaz.record(Uuid::now_v7(), 1, 1, "never stored")] };
    for (officer, why) in [
        (None, "no officer credential"),
        (Some("wpo_not-a-real-token".to_string()), "unknown or revoked"),
        (Some(revoked), "unknown or revoked"),
        (Some(okafor.officer_token.clone()), "issued to another device"),
    ] {
        let mut request = client.post(server.url("/v1/sync/push")).bearer_auth(&diaz.device_token).json(&push);
        if let Some(officer) = &officer {
            request = request.header(OFFICER, officer);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{why}");
        let error: ErrorBody = reply.json().await.unwrap();
        assert_eq!(error.error, SIGN_IN_REQUIRED);
        assert!(
            error.message.starts_with("sign in on this device to sync") && error.message.contains(why),
            "{error:?}"
        );
    }
    // The officer credential alone is not a device credential.
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&diaz.officer_token)
        .header(OFFICER, &diaz.officer_token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert!(t.store.versions_since(None).await.unwrap().is_empty());
    // The device still pulls without one.
    let pull = client.get(server.url("/v1/sync/pull")).bearer_auth(&diaz.device_token).send().await.unwrap();
    assert_eq!(pull.status(), StatusCode::OK);
    assert_eq!(push_http(&client, &server, &diaz, push.records).await[0].status, AckStatus::Stored);
}

async fn two_officers_on_one_device_each_push_their_own(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_officer(&t.store, "ofc.diaz", "1207", Role::Officer, "a long passphrase").await;
    add_officer(&t.store, "ofc.okafor", "3310", Role::Officer, "another passphrase").await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let (car, car_token) = enroll_device(&t.store).await;
    // Both sign in on the shared car laptop, over HTTP, with its device credential.
    let mut shift = Vec::new();
    for (username, password, officer_id) in
        [("ofc.diaz", "a long passphrase", "1207"), ("ofc.okafor", "another passphrase", "3310")]
    {
        let reply = client
            .post(server.url("/v1/login"))
            .bearer_auth(&car_token)
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        let login: LoginResponse = reply.json().await.unwrap();
        assert_eq!(login.officer_id, officer_id);
        shift.push(SignedIn {
            device_id: car.clone(),
            device_token: car_token.clone(),
            username: username.into(),
            officer_id: officer_id.into(),
            officer_token: login.officer_token.expect("an officer credential for a device's sign-in"),
        });
    }
    let (diaz, okafor) = (&shift[0], &shift[1]);
    let (d, o) = (Uuid::now_v7(), Uuid::now_v7());
    let acks =
        push_http(&client, &server, diaz, vec![diaz.record(d, 1, 1, "diaz's"), okafor.record(o, 1, 2, "as okafor")])
            .await;
    assert_eq!(statuses(&acks), [AckStatus::Stored, AckStatus::Rejected], "{acks:?}");
    assert!(reason(&acks[1]).contains("names officer 3310 but officer 1207 is signed in"), "{acks:?}");
    let acks =
        push_http(&client, &server, okafor, vec![okafor.record(o, 1, 2, "okafor's"), okafor.record(d, 2, 3, "x")])
            .await;
    assert_eq!(statuses(&acks), [AckStatus::Stored, AckStatus::Rejected], "{acks:?}");
    let mut expected = vec![(d, 1, "ofc.diaz".to_string(), car.clone()), (o, 1, "ofc.okafor".to_string(), car.clone())];
    expected.sort();
    assert_eq!(held(&t.store).await, expected);

    // One signs out: their credential stops; the other's still works.
    let sign_out = |who: &SignedIn| {
        client
            .post(server.url("/v1/officer/sign-out"))
            .bearer_auth(&who.device_token)
            .header(OFFICER, &who.officer_token)
            .send()
    };
    assert_eq!(sign_out(diaz).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(sign_out(diaz).await.unwrap().status(), StatusCode::UNAUTHORIZED, "already signed out");
    let reply = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&car_token)
        .header(OFFICER, &diaz.officer_token)
        .json(&PushRequest { records: vec![diaz.record(Uuid::now_v7(), 1, 4, "after sign-out")] })
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let acks = push_http(&client, &server, okafor, vec![okafor.record(Uuid::now_v7(), 1, 5, "still on shift")]).await;
    assert_eq!(statuses(&acks), [AckStatus::Stored]);
}

async fn login_from_a_device_issues_a_device_bound_officer_credential(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_officer(&t.store, "ofc.diaz", "1207", Role::Officer, "a long passphrase").await;
    let (car, car_token) = enroll_device(&t.store).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let login = |token: Option<&str>, password: &str| {
        let mut request =
            client.post(server.url("/v1/login")).json(&json!({"username": "ofc.diaz", "password": password}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    // Without a device credential (the review console): a session, no officer credential.
    let plain: LoginResponse = login(None, "a long passphrase").await.unwrap().json().await.unwrap();
    assert_eq!((plain.officer_token, plain.officer_id.as_str()), (None, "1207"));
    // From the device.
    let reply = login(Some(&car_token), "a long passphrase").await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let from_car: LoginResponse = reply.json().await.unwrap();
    let token = from_car.officer_token.expect("an officer credential");
    assert!(token.starts_with(OFFICER_TOKEN_PREFIX) && token.len() > 60, "{token}");
    // Kept only as a hash, bound to the user and the device.
    let holder = t.store.officer_credential(&waypoint_server::auth::token_hash(&token)).await.unwrap().unwrap();
    assert_eq!(
        (holder.username.as_str(), holder.device_id.as_str(), holder.officer_id.as_str()),
        ("ofc.diaz", &*car, "1207")
    );
    assert_eq!(t.store.officer_credential(&token).await.unwrap(), None);
    // A wrong password from the device issues nothing; an unknown device credential is refused.
    let before = t.store.officer_credentials_of("ofc.diaz").await.unwrap().len();
    assert_eq!(login(Some(&car_token), "wrong").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let unknown = login(Some("wpd_not-a-real-token"), "a long passphrase").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(unknown.json::<ErrorBody>().await.unwrap().message.contains("enrol the device again"));
    assert_eq!(t.store.officer_credentials_of("ofc.diaz").await.unwrap().len(), before);
}

type Tokens = std::collections::BTreeMap<(&'static str, String), String>;

/// Which (user, device) credentials of `tokens` still work.
async fn live(store: &SharedStore, tokens: &Tokens) -> Vec<(&'static str, String)> {
    let mut live = Vec::new();
    for ((user, car), token) in tokens {
        if store.officer_credential(&waypoint_server::auth::token_hash(token)).await.unwrap().is_some() {
            live.push((*user, car.clone()));
        }
    }
    live
}

async fn revoking_officer_credentials_by_user_by_device_or_both(backend: Backend) {
    let t = TestStore::new(backend).await;
    for name in ["ofc.diaz", "ofc.okafor"] {
        add_user(&t.store, name, Role::Officer, "a long passphrase").await;
    }
    let (car_a, car_b) = (enroll_device(&t.store).await.0, enroll_device(&t.store).await.0);
    let mut tokens = Tokens::new();
    for user in ["ofc.diaz", "ofc.okafor"] {
        for car in [&car_a, &car_b] {
            tokens.insert((user, car.clone()), officer_credential(&t.store, user, car).await);
        }
    }
    assert_eq!(t.store.revoke_officer_credentials(Some("ofc.diaz"), Some(&car_a)).await.unwrap(), 1, "sign-out");
    assert_eq!(live(&t.store, &tokens).await.len(), 3);
    assert_eq!(t.store.revoke_officer_credentials(None, Some(&car_b)).await.unwrap(), 2, "a revoked device");
    assert_eq!(live(&t.store, &tokens).await, [("ofc.okafor", car_a.clone())]);
    assert_eq!(t.store.revoke_officer_credentials(Some("ofc.okafor"), None).await.unwrap(), 1, "a disabled user");
    assert!(live(&t.store, &tokens).await.is_empty());
    let history = t.store.officer_credentials_of("ofc.diaz").await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|c| c.revoked_at.is_some_and(|at| at >= c.issued_at)), "{history:?}");
    assert_eq!(t.store.revoke_officer_credentials(None, None).await.unwrap(), 0, "nothing left to revoke");
}

async fn a_device_enrols_under_the_id_it_made(backend: Backend) {
    let t = TestStore::new(backend).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let enrol = |code: String, device_id: Option<String>| {
        client.post(server.url("/v1/enroll")).json(&json!({"code": code, "device_id": device_id})).send()
    };
    let own_id = Uuid::now_v7().to_string();
    let code = waypoint_server::auth::create_enrollment(&t.store).await.unwrap();
    let reply = enrol(code, Some(own_id.clone())).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let enrolled: EnrollResponse = reply.json().await.unwrap();
    assert_eq!(enrolled.device_id, own_id, "registered under the id the device stamps on its reports");
    assert_eq!(t.store.device_seq(&own_id).await.unwrap(), Some(0));

    // Another device claiming that id: 409, and the code is not used up.
    let code = waypoint_server::auth::create_enrollment(&t.store).await.unwrap();
    let taken = enrol(code.clone(), Some(own_id.clone())).await.unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(taken.json::<ErrorBody>().await.unwrap().message.contains(&own_id));
    let not_a_uuid = enrol(code.clone(), Some("car-12".into())).await.unwrap();
    assert_eq!(not_a_uuid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Without an id (an older client): the server makes one.
    let reply = enrol(code, None).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let made: EnrollResponse = reply.json().await.unwrap();
    assert!(Uuid::parse_str(&made.device_id).is_ok() && made.device_id != own_id);
}

async fn an_agency_can_let_a_role_amend_others_reports(backend: Backend) {
    let t = TestStore::new(backend).await;
    let diaz = signed_in_device(&t.store, "ofc.diaz").await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "another passphrase").await;
    let reyes = sign_in_on(&t.store, &enroll_device(&t.store).await, "sgt.reyes", "sgt.reyes").await;
    let id = Uuid::now_v7();
    let push = |who: &SignedIn, records: Vec<PushRecord>, settings: &Settings| {
        let pusher =
            Pusher { may_amend_others: settings.amend_others_roles.contains(&Role::Supervisor), ..who.pusher() };
        let store = t.store.clone();
        async move { store.push(&pusher, check_records_from(records, &pusher)).await.unwrap().acks }
    };
    let default = Settings::default();
    assert!(default.amend_others_roles.is_empty(), "no role may amend others' reports by default");
    assert_eq!(push(&diaz, vec![diaz.record(id, 1, 1, "first")], &default).await[0].status, AckStatus::Stored);
    let refused = push(&reyes, vec![reyes.record(id, 2, 1, "sergeant's correction")], &default).await;
    assert_eq!(refused[0].status, AckStatus::Rejected);
    let allowing = Settings { amend_others_roles: vec![Role::Supervisor], ..Settings::default() };
    let allowed = push(&reyes, vec![reyes.record(id, 2, 2, "sergeant's correction")], &allowing).await;
    assert_eq!(allowed[0].status, AckStatus::Stored, "{allowed:?}");
    // The amendment is recorded as the sergeant's; the encounter stays the officer's.
    let versions: Vec<_> = held(&t.store).await.into_iter().filter(|v| v.0 == id).collect();
    assert_eq!(versions.iter().map(|v| v.2.as_str()).collect::<Vec<_>>(), ["ofc.diaz", "sgt.reyes"]);
    assert_eq!(push(&diaz, vec![diaz.record(id, 3, 2, "officer again")], &default).await[0].status, AckStatus::Stored);
    // Without identity (tools), records are only checked for shape.
    assert!(check_records(vec![reyes.record(id, 4, 3, "x")])[0].problem.is_none());
}
