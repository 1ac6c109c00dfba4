//! A small CalDAV client (RFC 4791): `REPORT calendar-query` with a time range (§7.8) to read a room calendar,
//! `PUT` with `If-Match` (RFC 7232 §3.1) to write the room's reply back without overwriting a newer version.

use std::time::Duration;

use chrono::{DateTime, Utc};
use quick_xml::events::Event as Xml;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use reqwest::{Method, StatusCode};
use thiserror::Error;
use url::Url;

use super::config::RoomConfig;
use crate::decide::{CalendarObject, Reply};

const DAV: &[u8] = b"DAV:";
const CALDAV: &[u8] = b"urn:ietf:params:xml:ns:caldav";

/// Why a multistatus body could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("{0}")]
    Syntax(#[from] quick_xml::Error),
    /// A bad entity reference.
    #[error("{0}")]
    Escape(#[from] quick_xml::escape::EscapeError),
    /// Text not in the declared encoding.
    #[error("{0}")]
    Encoding(#[from] quick_xml::encoding::EncodingError),
}

/// A CalDAV request that failed. Nothing is changed locally when one happens.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CalDavError {
    /// Connection refused, timed out, TLS failure…
    #[error("{url}: CalDAV server unreachable: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    /// 401/403: the room's credentials are wrong or lack rights.
    #[error("{url}: CalDAV server refused the credentials ({status}): check the room's username and password")]
    Unauthorized { url: String, status: u16 },
    /// 412 on PUT: the object changed on the server since it was read; the next poll reads it again.
    #[error("{url}: object changed on the server since it was read (412 Precondition Failed); retried next poll")]
    Changed { url: String },
    /// Any other unexpected status.
    #[error("{url}: CalDAV server answered {status}")]
    Status { url: String, status: u16 },
    /// The response is larger than the configured limit.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    /// The multistatus body is not usable.
    #[error("{url}: bad multistatus XML: {source}")]
    Xml { url: String, source: XmlError },
    /// An href that does not resolve against the collection URL.
    #[error("{url}: bad href `{href}`")]
    BadHref { url: String, href: String },
}

/// The HTTP side. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CalDavClient {
    http: reqwest::Client,
    max_response_bytes: usize,
}

impl CalDavClient {
    /// A client with a per-request timeout and a response size limit.
    pub fn new(timeout: Duration, max_response_bytes: usize) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build()?;
        Ok(Self { http, max_response_bytes })
    }

    fn request(&self, method: Method, url: Url, room: &RoomConfig) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, url);
        match &room.username {
            Some(user) => builder.basic_auth(user, room.password.as_deref()),
            None => builder,
        }
    }

    /// Every calendar object with an event overlapping `from..to` (RFC 4791 §7.8 calendar-query, §9.9 time-range).
    pub async fn fetch(&self, room: &RoomConfig, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<CalendarObject>, CalDavError> {
        let url = room.calendar_url.to_string();
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{}" end="{}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"#,
            from.format("%Y%m%dT%H%M%SZ"),
            to.format("%Y%m%dT%H%M%SZ")
        );
        // "REPORT" is a valid method token (RFC 3253 §3.6), so `from_bytes` cannot fail; no fallback is ever used.
        let report = Method::from_bytes(b"REPORT").unwrap_or(Method::GET);
        let response = self
            .request(report, room.calendar_url.clone(), room)
            .header("Depth", "1")
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|source| CalDavError::Unreachable { url: url.clone(), source })?;
        let status = response.status();
        check_status(&url, status)?;
        if status != StatusCode::MULTI_STATUS {
            return Err(CalDavError::Status { url, status: status.as_u16() });
        }
        let text = self.read_bounded(&url, response).await?;
        let objects = parse_multistatus(&text).map_err(|source| CalDavError::Xml { url: url.clone(), source })?;
        Ok(objects)
    }

    /// Writes a reply back with `If-Match` (or `If-None-Match: *` never: the object exists).
    pub async fn put(&self, room: &RoomConfig, reply: &Reply) -> Result<(), CalDavError> {
        let url = room.calendar_url.join(&reply.href).map_err(|_| CalDavError::BadHref { url: room.calendar_url.to_string(), href: reply.href.clone() })?;
        let shown = url.to_string();
        let mut request = self.request(Method::PUT, url, room).header("Content-Type", "text/calendar; charset=utf-8");
        if let Some(etag) = &reply.etag {
            request = request.header("If-Match", etag);
        }
        let response = request.body(reply.body.clone()).send().await.map_err(|source| CalDavError::Unreachable { url: shown.clone(), source })?;
        let status = response.status();
        check_status(&shown, status)?;
        if status == StatusCode::PRECONDITION_FAILED {
            return Err(CalDavError::Changed { url: shown });
        }
        if !status.is_success() {
            return Err(CalDavError::Status { url: shown, status: status.as_u16() });
        }
        Ok(())
    }

    async fn read_bounded(&self, url: &str, mut response: reqwest::Response) -> Result<String, CalDavError> {
        let too_large = || CalDavError::TooLarge { url: url.to_owned(), limit: self.max_response_bytes };
        if response.content_length().is_some_and(|n| n > self.max_response_bytes as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|source| CalDavError::Unreachable { url: url.to_owned(), source })? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

fn check_status(url: &str, status: StatusCode) -> Result<(), CalDavError> {
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(CalDavError::Unauthorized { url: url.to_owned(), status: status.as_u16() });
    }
    if status.is_server_error() || status.is_client_error() && status != StatusCode::PRECONDITION_FAILED {
        return Err(CalDavError::Status { url: url.to_owned(), status: status.as_u16() });
    }
    Ok(())
}

/// Which text we are collecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Href,
    Etag,
    Data,
}

/// RFC 4918 §14.16 multistatus → objects that carry calendar-data (responses without it, e.g. 404 propstats, are
/// skipped).
fn parse_multistatus(xml: &str) -> Result<Vec<CalendarObject>, XmlError> {
    let mut reader = NsReader::from_str(xml);
    let mut out = Vec::new();
    let (mut href, mut etag, mut data) = (String::new(), String::new(), String::new());
    let mut field: Option<Field> = None;
    loop {
        let (ns, event) = reader.read_resolved_event()?;
        let in_ns = |want: &[u8]| matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == want);
        match event {
            Xml::Start(e) => {
                let local = e.local_name();
                field = match (in_ns(DAV), in_ns(CALDAV), local.as_ref()) {
                    (true, _, b"href") => Some(Field::Href),
                    (true, _, b"getetag") => Some(Field::Etag),
                    (_, true, b"calendar-data") => Some(Field::Data),
                    (true, _, b"response") => {
                        href.clear();
                        etag.clear();
                        data.clear();
                        None
                    }
                    _ => field,
                };
            }
            Xml::End(e) => {
                if in_ns(DAV) && e.local_name().as_ref() == b"response" && !data.trim().is_empty() {
                    let etag = quick_xml::escape::unescape(etag.trim())?.into_owned();
                    out.push(CalendarObject {
                        href: quick_xml::escape::unescape(href.trim())?.into_owned(),
                        etag: (!etag.is_empty()).then_some(etag),
                        body: quick_xml::escape::unescape(&data)?.into_owned(),
                    });
                }
                field = None;
            }
            Xml::Text(t) => push(field, &mut href, &mut etag, &mut data, &t.decode()?),
            Xml::GeneralRef(r) => push(field, &mut href, &mut etag, &mut data, &format!("&{};", r.decode()?)),
            Xml::CData(c) => push(field, &mut href, &mut etag, &mut data, &quick_xml::escape::escape(c.decode()?)),
            Xml::Eof => return Ok(out),
            _ => {}
        }
    }
}

fn push(field: Option<Field>, href: &mut String, etag: &mut String, data: &mut String, text: &str) {
    match field {
        Some(Field::Href) => href.push_str(text),
        Some(Field::Etag) => etag.push_str(text),
        Some(Field::Data) => data.push_str(text),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4791_multistatus_with_entities_and_cdata() -> Result<(), XmlError> {
        let xml = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <response><href>/cal/a.ics</href><propstat><prop><getetag>"e1"</getetag>
  <C:calendar-data>BEGIN:VCALENDAR&#13;
SUMMARY:R&amp;D&#13;
END:VCALENDAR&#13;
</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
 <response><href>/cal/b.ics</href><propstat><prop><getetag>&quot;e2&quot;</getetag>
  <C:calendar-data><![CDATA[BEGIN:VCALENDAR
X:<&>
END:VCALENDAR
]]></C:calendar-data></prop></propstat></response>
 <response><href>/cal/</href><propstat><prop><getetag/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
</multistatus>"#;
        let objects = parse_multistatus(xml)?;
        assert_eq!(objects.len(), 2);
        let a = objects.first();
        assert_eq!(a.map(|o| o.href.as_str()), Some("/cal/a.ics"));
        assert_eq!(a.and_then(|o| o.etag.as_deref()), Some("\"e1\""));
        assert_eq!(a.map(|o| o.body.as_str()), Some("BEGIN:VCALENDAR\r\nSUMMARY:R&D\r\nEND:VCALENDAR\r\n"));
        let b = objects.get(1);
        assert_eq!(b.and_then(|o| o.etag.as_deref()), Some("\"e2\""));
        assert_eq!(b.map(|o| o.body.as_str()), Some("BEGIN:VCALENDAR\nX:<&>\nEND:VCALENDAR\n"));
        Ok(())
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(parse_multistatus("<multistatus xmlns=\"DAV:\"><response><href>x</wrong>").is_err());
    }
}
