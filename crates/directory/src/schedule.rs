//! Is a service open now? From HSDS schedules (RRULE style), in the schedule's own timezone.
//!
//! Never guesses: no schedule, an unknown timezone, or a rule this code cannot read gives
//! `Unknown`, which the ranking treats as neither open nor closed.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::model::{OpenNow, Schedule};

/// The verdict and the words for it ("open until 06:00").
#[derive(Debug, Clone, PartialEq)]
pub struct OpenState {
    pub open_now: OpenNow,
    pub always_open: bool,
    pub text: String,
}

impl OpenState {
    fn unknown(reason: &str) -> Self {
        OpenState { open_now: OpenNow::Unknown, always_open: false, text: format!("hours unknown ({reason})") }
    }
}

#[derive(Debug, Clone, Copy)]
enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    /// An IANA name ("America/Chicago") or an HSDS 3.0 numeric offset in hours ("-5", "5.5").
    fn parse(text: &str) -> Option<Zone> {
        let text = text.trim();
        if let Ok(tz) = Tz::from_str(text) {
            return Some(Zone::Named(tz));
        }
        let hours: f64 = text.strip_prefix("UTC").unwrap_or(text).parse().ok()?;
        if !(-14.0..=14.0).contains(&hours) {
            return None;
        }
        FixedOffset::east_opt((hours * 3600.0).round() as i32).map(Zone::Fixed)
    }

    fn local(self, now: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Named(tz) => now.with_timezone(&tz).naive_local(),
            Zone::Fixed(offset) => now.with_timezone(&offset).naive_local(),
        }
    }
}

/// Minutes since local midnight; 1440 is the end of the day.
fn parse_time(text: &str) -> Option<u32> {
    let text = text.trim();
    if text == "24:00" || text == "24:00:00" {
        return Some(1440);
    }
    let t = NaiveTime::parse_from_str(text, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M")).ok()?;
    // "23:59" closing means "until midnight": no one-minute gap before a 24 h day.
    let minutes = t.hour() * 60 + t.minute();
    Some(if minutes == 1439 { 1440 } else { minutes })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// One BYDAY entry: weekday with an optional ordinal (1MO = first Monday, -1FR = last Friday).
#[derive(Debug, Clone, Copy)]
struct ByDay {
    ordinal: Option<i32>,
    day: Weekday,
}

#[derive(Debug)]
enum Freq {
    Daily,
    Weekly { days: Vec<ByDay>, interval: i64, start: Option<NaiveDate> },
    Monthly { days: Vec<ByDay>, month_days: Vec<i32> },
}

#[derive(Debug)]
struct Rule {
    zone: Zone,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    freq: Freq,
    opens: u32,
    closes: u32,
}

impl Rule {
    fn parse(s: &Schedule, fallback_tz: Option<&str>) -> Result<Rule, String> {
        let zone_text = s.timezone.as_deref().filter(|t| !t.trim().is_empty()).or(fallback_tz);
        let zone = match zone_text {
            Some(text) => Zone::parse(text).ok_or_else(|| format!("timezone `{text}` not understood"))?,
            None => return Err("no timezone".into()),
        };
        let mut days = Vec::new();
        for part in s.byday.as_deref().unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let split = part.len().checked_sub(2).ok_or_else(|| format!("byday `{part}`"))?;
            let day = weekday(&part[split..].to_ascii_uppercase()).ok_or_else(|| format!("byday `{part}`"))?;
            let ordinal = if split > 0 {
                Some(part[..split].trim_start_matches('+').parse::<i32>().map_err(|_| format!("byday `{part}`"))?)
            } else {
                None
            };
            days.push(ByDay { ordinal, day });
        }
        let month_days: Vec<i32> = s
            .bymonthday
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| p.trim().parse::<i32>().map_err(|_| format!("bymonthday `{p}`")))
            .collect::<Result<_, _>>()?;
        let start = s.dtstart.as_deref().and_then(parse_date);
        let freq = match s.freq.as_deref().map(|f| f.trim().to_ascii_uppercase()).as_deref() {
            Some("DAILY") => Freq::Daily,
            Some("WEEKLY") | None if !days.is_empty() || start.is_some() => {
                if days.is_empty() {
                    // RRULE: a weekly rule without BYDAY repeats on DTSTART's weekday.
                    days.push(ByDay { ordinal: None, day: start.expect("checked").weekday() });
                }
                let interval = s.interval.unwrap_or(1).max(1);
                if interval > 1 && start.is_none() {
                    return Err("every-n-weeks rule without a start date".into());
                }
                Freq::Weekly { days, interval, start }
            }
            Some("MONTHLY") if !days.is_empty() || !month_days.is_empty() => Freq::Monthly { days, month_days },
            Some(other) => return Err(format!("recurrence `{other}` without days")),
            None => return Err("no recurrence".into()),
        };
        let (opens, closes) = match (s.opens_at.as_deref(), s.closes_at.as_deref()) {
            (None, None) => (0, 1440),
            (Some(o), Some(c)) => (
                parse_time(o).ok_or_else(|| format!("opens_at `{o}`"))?,
                parse_time(c).ok_or_else(|| format!("closes_at `{c}`"))?,
            ),
            _ => return Err("opening or closing time missing".into()),
        };
        // Closing at or before opening runs past midnight (22:00-06:00); 00:00-00:00 is a whole day.
        let closes = if closes <= opens { closes + 1440 } else { closes };
        Ok(Rule {
            zone,
            valid_from: s.valid_from.as_deref().and_then(parse_date),
            valid_to: s.valid_to.as_deref().and_then(parse_date),
            freq,
            opens,
            closes,
        })
    }

    fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| date >= f) && self.valid_to.is_none_or(|t| date <= t)
    }

    fn occurs_on(&self, date: NaiveDate) -> bool {
        if !self.valid_on(date) {
            return false;
        }
        match &self.freq {
            Freq::Daily => true,
            Freq::Weekly { days, interval, start } => {
                let day_ok = days.iter().any(|d| d.day == date.weekday());
                let week_ok = match start {
                    Some(start) if *interval > 1 => {
                        let weeks =
                            (date.week(Weekday::Mon).first_day() - start.week(Weekday::Mon).first_day()).num_days() / 7;
                        weeks >= 0 && weeks % interval == 0
                    }
                    Some(start) => date >= *start,
                    None => true,
                };
                day_ok && week_ok
            }
            Freq::Monthly { days, month_days } => {
                let last = last_day_of_month(date);
                let md_ok = month_days.iter().any(|&d| {
                    if d > 0 {
                        date.day() as i32 == d
                    } else {
                        last as i32 + d + 1 == date.day() as i32
                    }
                });
                let bd_ok = days.iter().any(|b| {
                    b.day == date.weekday()
                        && match b.ordinal {
                            None => true,
                            Some(n) if n > 0 => (date.day() as i32 - 1) / 7 + 1 == n,
                            Some(n) => (last as i32 - date.day() as i32) / 7 + 1 == -n,
                        }
                });
                md_ok || bd_ok
            }
        }
    }

    /// Whether open at local time `t`, with the closing moment if so.
    fn open_at(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let minute = t.hour() * 60 + t.minute();
        let today = t.date();
        let yesterday = today - Duration::days(1);
        let at = |date: NaiveDate, m: u32| date.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(m as i64);
        if self.occurs_on(today) && minute >= self.opens && minute < self.closes {
            return Some(at(today, self.closes));
        }
        // Overnight from yesterday (22:00-06:00 is open at 02:00 the next morning).
        if self.closes > 1440 && self.occurs_on(yesterday) && minute + 1440 < self.closes {
            return Some(at(yesterday, self.closes));
        }
        None
    }

    fn next_opening(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let minute = t.hour() * 60 + t.minute();
        (0..=31).find_map(|d| {
            let date = t.date() + Duration::days(d);
            (self.occurs_on(date) && (d > 0 || self.opens > minute))
                .then(|| date.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(self.opens as i64))
        })
    }

    fn always(&self) -> bool {
        let all_days = match &self.freq {
            Freq::Daily => true,
            Freq::Weekly { days, interval, .. } => {
                *interval == 1
                    && days
                        .iter()
                        .filter(|d| d.ordinal.is_none())
                        .map(|d| d.day)
                        .collect::<std::collections::HashSet<_>>()
                        .len()
                        == 7
            }
            Freq::Monthly { .. } => false,
        };
        all_days && self.opens == 0 && self.closes >= 1440 && self.valid_from.is_none() && self.valid_to.is_none()
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let (y, m) = if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
    (NaiveDate::from_ymd_opt(y, m, 1).unwrap() - Duration::days(1)).day()
}

fn hhmm(t: NaiveDateTime) -> String {
    t.format("%H:%M").to_string()
}

/// Open now, closed or unknown, from a service's schedules. `fallback_tz` is the location's.
pub fn open_state(schedules: &[Schedule], fallback_tz: Option<&str>, now: DateTime<Utc>) -> OpenState {
    Hours::parse(schedules, fallback_tz).open_state(now)
}

/// A service's schedules read once (with the location's timezone as the fallback), so
/// "open now?" can be asked again and again without parsing them again (the suggestion index
/// keeps one per service-at-location). A rule that cannot be read is kept as its reason.
#[derive(Debug, Default)]
pub(crate) struct Hours {
    rules: Vec<Result<Rule, String>>,
}

impl Hours {
    pub(crate) fn parse(schedules: &[Schedule], fallback_tz: Option<&str>) -> Hours {
        Hours { rules: schedules.iter().map(|s| Rule::parse(s, fallback_tz)).collect() }
    }

    /// Open now, closed or unknown: the same answer as [`open_state`] on the same schedules.
    pub(crate) fn open_state(&self, now: DateTime<Utc>) -> OpenState {
        if self.rules.is_empty() {
            return OpenState { open_now: OpenNow::Unknown, always_open: false, text: "hours unknown".into() };
        }
        let mut unreadable: Option<&str> = None;
        let mut next_open: Option<NaiveDateTime> = None;
        let mut any_valid_today = false;
        for rule in &self.rules {
            let rule = match rule {
                Ok(rule) => rule,
                Err(reason) => {
                    unreadable.get_or_insert(reason);
                    continue;
                }
            };
            let local = rule.zone.local(now);
            if rule.always() {
                return OpenState { open_now: OpenNow::Open, always_open: true, text: "open 24/7".into() };
            }
            if let Some(until) = rule.open_at(local) {
                return OpenState {
                    open_now: OpenNow::Open,
                    always_open: false,
                    text: format!("open until {}", hhmm(until)),
                };
            }
            any_valid_today |= rule.valid_on(local.date()) || rule.valid_on(local.date() - Duration::days(1));
            if let Some(next) = rule.next_opening(local) {
                next_open = Some(next_open.map_or(next, |n| n.min(next)));
            }
        }
        if let Some(reason) = unreadable {
            return OpenState::unknown(reason);
        }
        if !any_valid_today {
            return OpenState::unknown("schedule not valid today");
        }
        let text = match next_open {
            Some(next) => format!("closed, opens {} {}", next.format("%a"), hhmm(next)),
            None => "closed".into(),
        };
        OpenState { open_now: OpenNow::Closed, always_open: false, text }
    }
}

/// Weekly hours in words for a printed card ("Mon-Fri 08:00-17:00; Sat 09:00-12:00"). It states
/// what the schedules say and nothing more: without schedules it tells the reader to call first.
pub fn weekly_hours(schedules: &[Schedule]) -> String {
    if schedules.is_empty() {
        return "Hours not listed: call first".into();
    }
    let mut parts: Vec<String> = Vec::new();
    for s in schedules {
        if let Some(text) = s.description.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            parts.push(text.to_string());
            continue;
        }
        let always = Rule::parse(s, Some("UTC")).map(|r| r.always()).unwrap_or(false);
        if always {
            parts.push("Open 24 hours, every day".into());
            continue;
        }
        let days = match s.byday.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(days) => days
                .split(',')
                .map(|d| {
                    let d = d.trim().to_ascii_uppercase();
                    let code = &d[d.len().saturating_sub(2)..];
                    weekday(code).map(|w| format!("{}{w}", &d[..d.len().saturating_sub(2)])).unwrap_or(d.clone())
                })
                .collect::<Vec<_>>()
                .join(", "),
            None if s.freq.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("DAILY")) => "Daily".into(),
            None => "Days not listed".into(),
        };
        let hours = match (s.opens_at.as_deref(), s.closes_at.as_deref()) {
            (Some(open), Some(close)) => format!("{}-{}", short_time(open), short_time(close)),
            (Some(open), None) => format!("from {}", short_time(open)),
            _ => "hours not listed".into(),
        };
        parts.push(format!("{days} {hours}"));
    }
    parts.dedup();
    parts.join("; ")
}

/// "08:00:00" -> "08:00".
fn short_time(text: &str) -> String {
    let t = text.trim();
    if t.len() >= 5 && t.as_bytes()[2] == b':' {
        t[..5].to_string()
    } else {
        t.to_string()
    }
}
