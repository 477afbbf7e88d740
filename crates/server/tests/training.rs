//! CIT training records over the admin API, on both stores: recorded, listed by officer, checked
//! by field, removed, audited, and admins only. (How they move the figures: tests/outcomes.rs.)

mod common;

use chrono::{Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use waypoint_protocol::{OfficerTraining, Role, TrainingKind, TrainingRecord};
use waypoint_server::Settings;

on_both_stores!(training_is_recorded_listed_checked_and_removed);

const PASSWORD: &str = "a long passphrase";

async fn training_is_recorded_listed_checked_and_removed(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "admin.kim", Role::Admin, PASSWORD).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
    add_user(&t.store, "officer.lee", Role::Officer, PASSWORD).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let admin = login(&client, &server, "admin.kim", PASSWORD).await;
    let sgt = login(&client, &server, "sgt.reyes", PASSWORD).await;
    let post = |token: &str, path: &str, body: Value| {
        client.post(server.url(path)).bearer_auth(token.to_string()).json(&body).send()
    };
    let day = |days_ago: i64| (Utc::now() - Duration::days(days_ago)).date_naive().to_string();

    let first = post(
        &admin,
        "/v1/admin/training",
        json!({"username": " officer.lee ", "course": " CIT 40-hour ",
        "kind": "initial", "completed_on": day(400)}),
    )
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: TrainingRecord = first.json().await.unwrap();
    assert_eq!(
        (first.username.as_str(), first.course.as_str(), first.kind),
        ("officer.lee", "CIT 40-hour", TrainingKind::Initial)
    );
    assert_eq!(first.recorded_by, "admin.kim");
    let refresher = post(
        &admin,
        "/v1/admin/training",
        json!({"username": "officer.lee", "course": "CIT refresher",
        "kind": "refresher", "completed_on": day(30)}),
    )
    .await
    .unwrap();
    assert_eq!(refresher.status(), StatusCode::CREATED);
    let other = post(
        &admin,
        "/v1/admin/training",
        json!({"username": "sgt.reyes", "course": "CIT 40-hour",
        "kind": "initial", "completed_on": day(0)}),
    )
    .await
    .unwrap();
    assert_eq!(other.status(), StatusCode::CREATED, "today is allowed");

    // Refused by field: no such user, no course, a day to come, before 1970; a bad kind is 422.
    for (body, field) in [
        (json!({"username": "nobody", "course": "CIT", "kind": "initial", "completed_on": day(1)}), Some("username")),
        (json!({"username": "officer.lee", "course": "  ", "kind": "initial", "completed_on": day(1)}), Some("course")),
        (
            json!({"username": "officer.lee", "course": "x".repeat(201), "kind": "initial", "completed_on": day(1)}),
            Some("course"),
        ),
        (
            json!({"username": "officer.lee", "course": "CIT", "kind": "initial", "completed_on": day(-1)}),
            Some("completed_on"),
        ),
        (
            json!({"username": "officer.lee", "course": "CIT", "kind": "initial", "completed_on": "1969-12-31"}),
            Some("completed_on"),
        ),
        (json!({"username": "officer.lee", "course": "CIT", "kind": "weekend", "completed_on": day(1)}), Some("kind")),
        (
            json!({"username": "officer.lee", "course": "CIT", "kind": "initial", "completed_on": "last May"}),
            Some("completed_on"),
        ),
    ] {
        let reply = post(&admin, "/v1/admin/training", body.clone()).await.unwrap();
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = reply.json().await.unwrap();
        if let Some(field) = field {
            assert_eq!(error["field"], field, "{body}: {error}");
        }
    }

    let list = |token: String, query: Vec<(&'static str, &'static str)>| {
        client.get(server.url("/v1/admin/training")).bearer_auth(token).query(&query).send()
    };
    let all: Vec<TrainingRecord> = list(admin.clone(), vec![]).await.unwrap().json().await.unwrap();
    assert_eq!(
        all.iter().map(|r| (r.username.as_str(), r.kind)).collect::<Vec<_>>(),
        [
            ("officer.lee", TrainingKind::Initial),
            ("officer.lee", TrainingKind::Refresher),
            ("sgt.reyes", TrainingKind::Initial),
        ]
    );
    let lee: Vec<TrainingRecord> =
        list(admin.clone(), vec![("username", "officer.lee")]).await.unwrap().json().await.unwrap();
    assert_eq!(lee.len(), 2);
    assert_eq!(list(sgt.clone(), vec![]).await.unwrap().status(), StatusCode::FORBIDDEN, "admins only");

    // The summary: trained since the first initial course; refreshers counted; admins not listed.
    let summary = |token: String| client.get(server.url("/v1/admin/training/summary")).bearer_auth(token).send();
    let rows: Vec<OfficerTraining> = summary(admin.clone()).await.unwrap().json().await.unwrap();
    let of = |rows: &[OfficerTraining], who: &str| rows.iter().find(|r| r.username == who).cloned();
    let lee = of(&rows, "officer.lee").unwrap();
    assert_eq!((lee.trained_since.map(|d| d.to_string()), lee.refreshers), (Some(day(400)), 1));
    assert_eq!(lee.last_refresher.map(|d| d.to_string()), Some(day(30)));
    assert_eq!(of(&rows, "sgt.reyes").unwrap().trained_since.map(|d| d.to_string()), Some(day(0)));
    assert!(of(&rows, "admin.kim").is_none(), "admins file no reports");
    assert_eq!(summary(sgt.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);

    let removed = post(&admin, &format!("/v1/admin/training/{}/delete", first.id), json!({})).await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let again = post(&admin, &format!("/v1/admin/training/{}/delete", first.id), json!({})).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let lee: Vec<TrainingRecord> =
        list(admin.clone(), vec![("username", "officer.lee")]).await.unwrap().json().await.unwrap();
    assert_eq!(lee.iter().map(|r| r.kind).collect::<Vec<_>>(), [TrainingKind::Refresher]);
    let rows: Vec<OfficerTraining> = summary(admin.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(of(&rows, "officer.lee").unwrap().trained_since, None, "a refresher alone does not train");

    // The trail says who recorded and removed what.
    let trail = t.store.audit_rows(0, 1000).await.unwrap();
    let recorded: Vec<_> = trail.iter().filter(|r| r.action == "training_recorded" && r.outcome == "ok").collect();
    assert!(recorded.len() >= 3);
    let removal = trail.iter().find(|r| r.action == "training_removed").expect("the removal is audited");
    assert_eq!(removal.actor, "admin.kim");
    assert_eq!(removal.target.as_deref(), Some("user officer.lee"));
    assert!(removal.detail.as_deref().unwrap().contains("CIT 40-hour"));
}
