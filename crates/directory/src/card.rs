//! What the officer hands over: a resource card (chosen services' name, address, phone, hours) as
//! text, a QR code of that text, and a printable page; and places found by typed address.

use chrono::{DateTime, Utc};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::schedule::weekly_hours;
use super::Directory;
use crate::error::{Error, Result};

/// The most services one card holds: more would not fit a QR code a phone camera reads easily.
pub const MAX_CARD_SERVICES: usize = 5;

/// The national crisis line, always on the card: the one number that works everywhere, any hour.
pub const CRISIS_LINE: &str = "988 Suicide & Crisis Lifeline: call or text 988";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CardEntry {
    pub service_at_location_id: String,
    pub name: String,
    pub organization: String,
    pub address: Option<String>,
    pub phones: Vec<String>,
    /// Weekly hours in words ("Mon, Tue 08:00-17:00", "Open 24 hours, every day").
    pub hours: String,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ResourceCard {
    pub entries: Vec<CardEntry>,
    pub crisis_line: String,
    /// Plain text of the whole card: what the QR code holds and what a copy puts on the clipboard.
    pub text: String,
    /// The QR code of `text`, as an SVG document.
    pub qr_svg: String,
    pub generated_at: DateTime<Utc>,
}

/// A place a typed address matched: a street address, a ZIP code or a city of the directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Place {
    pub label: String,
    /// "address", "postal_code" or "city".
    pub kind: String,
    pub latitude: f64,
    pub longitude: f64,
    /// How many directory locations back this place (a city's centre is their mean).
    pub locations: u32,
}

impl Directory {
    /// The card for these services, in the order given. Unknown ids are an error naming the id.
    pub fn resource_card(&self, sal_ids: &[String], now: DateTime<Utc>) -> Result<ResourceCard> {
        if sal_ids.is_empty() {
            return Err(Error::validation("services", "Choose at least one service for the card."));
        }
        if sal_ids.len() > MAX_CARD_SERVICES {
            return Err(Error::validation(
                "services",
                format!("A card holds at most {MAX_CARD_SERVICES} services; {} were chosen.", sal_ids.len()),
            ));
        }
        let mut entries = Vec::with_capacity(sal_ids.len());
        for sal_id in sal_ids {
            let detail = self.service_detail(sal_id, None, now)?;
            let (service_id, location_id): (String, String) = self.conn.query_row(
                "SELECT service_id, location_id FROM service_at_location WHERE id = ?1",
                [sal_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let schedules = self.schedules_for(sal_id, &service_id, &location_id)?;
            entries.push(CardEntry {
                service_at_location_id: sal_id.clone(),
                name: detail.name,
                organization: detail.organization,
                address: detail.address,
                phones: detail
                    .phones
                    .iter()
                    .map(|p| match &p.extension {
                        Some(ext) if !ext.is_empty() => format!("{} ext. {ext}", p.number),
                        _ => p.number.clone(),
                    })
                    .collect(),
                hours: weekly_hours(&schedules),
                website: detail.website,
            });
        }
        let text = card_text(&entries);
        let qr_svg = qr_svg(&text)?;
        Ok(ResourceCard { entries, crisis_line: CRISIS_LINE.into(), text, qr_svg, generated_at: now })
    }

    /// Places matching typed text: a 5-digit ZIP, a street address, or a city ("Austin, TX").
    /// Only the directory's own addresses are used, so it works with no network.
    pub fn find_places(&self, text: &str, limit: u32) -> Result<Vec<Place>> {
        let text = text.trim();
        if text.len() < 3 {
            return Ok(Vec::new());
        }
        let limit = limit.clamp(1, 50);
        let mut places = Vec::new();
        if text.len() == 5 && text.chars().all(|c| c.is_ascii_digit()) {
            let mut stmt = self.conn.prepare_cached(
                // Stored codes may be ZIP+4 ("78701-1234"): match on the first five digits.
                "SELECT ?1 || ' (' || MIN(a.city) || ', ' || MIN(a.state_province) || ')',
                        AVG(l.latitude), AVG(l.longitude), COUNT(*)
                 FROM address a JOIN location l ON l.id = a.location_id
                 WHERE (a.postal_code = ?1 OR a.postal_code LIKE ?1 || '-%') AND l.latitude IS NOT NULL
                 HAVING COUNT(*) > 0",
            )?;
            places.extend(stmt.query_map([text], |r| place(r, "postal_code"))?.collect::<rusqlite::Result<Vec<_>>>()?);
            return Ok(places);
        }
        // "City, ST" narrows by state; a leading number means a street address.
        let (city_part, state) = match text.rsplit_once(',') {
            Some((city, st)) if st.trim().len() == 2 => (city.trim(), Some(st.trim().to_ascii_uppercase())),
            _ => (text, None),
        };
        if text.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            let mut stmt = self.conn.prepare_cached(
                "SELECT a.address_1 || ', ' || a.city || ', ' || a.state_province || ' ' || a.postal_code,
                        l.latitude, l.longitude, 1
                 FROM address a JOIN location l ON l.id = a.location_id
                 WHERE a.address_1 LIKE ?1 ESCAPE '\\' AND l.latitude IS NOT NULL
                 ORDER BY a.address_1 LIMIT ?2",
            )?;
            let street = city_part.split(',').next().unwrap_or(city_part);
            let pattern = format!("{}%", escape_like(street));
            places.extend(
                stmt.query_map(params![pattern, limit], |r| place(r, "address"))?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
            return Ok(places);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT MIN(a.city) || ', ' || a.state_province, AVG(l.latitude), AVG(l.longitude), COUNT(*)
             FROM address a JOIN location l ON l.id = a.location_id
             WHERE a.city LIKE ?1 ESCAPE '\\' AND (?2 IS NULL OR a.state_province = ?2) AND l.latitude IS NOT NULL
             GROUP BY UPPER(a.city), a.state_province ORDER BY COUNT(*) DESC LIMIT ?3",
        )?;
        let pattern = format!("{}%", escape_like(city_part));
        places.extend(
            stmt.query_map(params![pattern, state, limit], |r| place(r, "city"))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        );
        Ok(places)
    }
}

fn place(r: &rusqlite::Row, kind: &str) -> rusqlite::Result<Place> {
    Ok(Place {
        label: r.get(0)?,
        kind: kind.into(),
        latitude: r.get(1)?,
        longitude: r.get(2)?,
        locations: r.get::<_, i64>(3)? as u32,
    })
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The card as plain text, one block per service, the crisis line last.
pub fn card_text(entries: &[CardEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&entry.name);
        out.push('\n');
        if let Some(address) = &entry.address {
            out.push_str(address);
            out.push('\n');
        }
        for phone in &entry.phones {
            out.push_str("Tel ");
            out.push_str(phone);
            out.push('\n');
        }
        out.push_str(&entry.hours);
        out.push_str("\n\n");
    }
    out.push_str(CRISIS_LINE);
    out
}

/// A QR code of `text` (medium error correction: survives a scuffed printout).
pub fn qr_svg(text: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| Error::validation("services", format!("The card is too long for a QR code ({e}).")))?;
    Ok(code.render::<svg::Color>().min_dimensions(240, 240).quiet_zone(true).build())
}

/// The QR modules of `text` as rows of dark (true) / light cells (tests decode them).
pub fn qr_modules(text: &str) -> Result<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| Error::validation("services", format!("The card is too long for a QR code ({e}).")))?;
    let width = code.width();
    let cells = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    Ok((width, cells))
}
