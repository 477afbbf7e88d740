//! GPS from gpsd: reports parsed, and a real gpsd fed by gpsfake replaying tests/gps/patrol.nmea.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use waypoint_core::gps::{parse_fix, GpsState, GpsWatcher};

#[test]
fn a_tpv_report_with_a_fix_gives_position_and_accuracy() {
    let now = Utc::now();
    let fix = parse_fix(
        r#"{"class":"TPV","mode":3,"lat":30.2675,"lon":-97.7431,"eph":17.1,"time":"2026-11-28T08:00:03Z"}"#,
        now,
    )
    .unwrap();
    assert_eq!((fix.lat, fix.lon, fix.mode), (30.2675, -97.7431, 3));
    assert_eq!(fix.accuracy_m, Some(17.1));
    // Older gpsd: no eph, the larger of epx/epy.
    let fix = parse_fix(r#"{"class":"TPV","mode":2,"lat":1.0,"lon":2.0,"epx":4.0,"epy":9.5}"#, now).unwrap();
    assert_eq!(fix.accuracy_m, Some(9.5));
    // No fix, other classes, garbage: nothing.
    assert!(parse_fix(r#"{"class":"TPV","mode":1}"#, now).is_none());
    assert!(parse_fix(r#"{"class":"SKY","satellites":[]}"#, now).is_none());
    assert!(parse_fix(r#"{"class":"TPV","mode":3,"lat":95.0,"lon":2.0}"#, now).is_none());
    assert!(parse_fix("not json", now).is_none());
}

#[test]
fn without_gpsd_the_reading_says_unavailable_and_nothing_blocks() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let watcher = GpsWatcher::start(format!("127.0.0.1:{port}"));
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let reading = watcher.reading();
    assert!(started.elapsed() < Duration::from_millis(50), "reading never waits on the network");
    assert_eq!(reading.state, GpsState::Unavailable);
    assert!(reading.fix.is_none());
    assert!(reading.message.starts_with("No GPS receiver"), "{}", reading.message);
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn gpsd_fed_by_gpsfake_gives_a_fix_with_accuracy() {
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/gps/patrol.nmea");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // gpsfake starts a real gpsd on `port` and replays the log (looping) to it.
    let gpsfake = Command::new("gpsfake")
        .args(["-q", "-c", "0.1", "-P", &port.to_string(), log])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gpsfake (Debian package gpsd-clients) must be installed");
    let _guard = KillOnDrop(gpsfake);
    let watcher = GpsWatcher::start(format!("127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let reading = loop {
        let reading = watcher.reading();
        // The first report of a session may come before gpsd has the DOPs to estimate error.
        let with_accuracy = reading.fix.as_ref().is_some_and(|f| f.accuracy_m.is_some());
        if with_accuracy || Instant::now() > deadline {
            break reading;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(reading.state, GpsState::Fix, "no fix from gpsfake: {}", reading.message);
    let fix = reading.fix.unwrap();
    // The log drives north on Congress Ave, Austin, from 30.2672 to 30.2701.
    assert!((30.2672..=30.2702).contains(&fix.lat), "lat {}", fix.lat);
    assert!((fix.lon + 97.7431).abs() < 1e-4, "lon {}", fix.lon);
    let accuracy = fix.accuracy_m.expect("gpsd derives an error estimate from the DOPs");
    assert!(accuracy > 0.0 && accuracy < 100.0, "accuracy {accuracy}");
    assert!(reading.message.starts_with("GPS ±"), "{}", reading.message);
}
