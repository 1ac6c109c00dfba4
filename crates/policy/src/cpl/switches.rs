//! Parsing the CPL switches and `location`: each output's test is compiled once here.

use chrono_tz::Tz;
use roxmltree::Node as XmlNode;

use super::parse::{Ns, Parser};
use super::time::TimeSpec;
use super::tree::{
    AddressField, AddressTest, LocationUrl, NodeId, NodeKind, Output, PriorityTest, StringField, StringTest, Subfield,
    TaaRule, Tail,
};
use super::CplError;
use crate::input::PriorityLevel;
use crate::pattern::Pattern;

/// `time` attributes RFC 3880 defines that Causeway does not evaluate.
const UNSUPPORTED_TIME: &[&str] = &["bysecond", "byminute", "byhour", "byyearday", "byweekno", "bysetpos"];
const TIME_ATTRS: &[&str] =
    &["dtstart", "dtend", "duration", "freq", "interval", "until", "count", "byday", "bymonth", "bymonthday", "wkst"];

impl<'input> Parser<'_, 'input> {
    /// Walks a switch's children: `tests` turns a matching output element into its test,
    /// `not-present` and `otherwise` (which must come last) fill the tail.
    fn outputs<T>(
        &mut self,
        el: XmlNode<'_, 'input>,
        depth: usize,
        output: &'static str,
        mut test: impl FnMut(&Self, XmlNode<'_, 'input>) -> Result<T, CplError>,
        not_present_allowed: bool,
    ) -> Result<(Vec<Output<T>>, Tail), CplError> {
        let mut outputs = Vec::new();
        let mut tail = Tail::default();
        for child in self.elements(el)? {
            if tail.otherwise.is_some() {
                return Err(CplError::AfterOtherwise { at: self.at(child) });
            }
            let name = child.tag_name().name();
            match (self.ns(child)?, name) {
                (ns, n) if n == output && (ns == Ns::Cpl || output == "rule") => {
                    let t = test(self, child)?;
                    let next = self.content(child, depth)?;
                    outputs.push(Output { test: t, line: self.line(child), next });
                }
                (Ns::Cpl, "not-present") if not_present_allowed && tail.not_present.is_none() => {
                    self.check_attrs(child, &[], &[])?;
                    tail.not_present = Some(self.content(child, depth)?);
                }
                (Ns::Cpl, "otherwise") => {
                    self.check_attrs(child, &[], &[])?;
                    tail.otherwise = Some(self.content(child, depth)?);
                }
                _ => return Err(self.unexpected(child, "a switch (expected its outputs)")),
            }
        }
        Ok((outputs, tail))
    }

    pub(crate) fn address_switch(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["field", "subfield"], &[])?;
        let field = match self.required(el, "field")? {
            // Expressway documents `origin` as a synonym of `authenticated-origin`; RFC 3880 means
            // every caller. The script's dialect (a `taa:routed` section) decides.
            "origin" if !self.expressway => AddressField::Origin,
            "origin" | "authenticated-origin" => AddressField::AuthenticatedOrigin,
            "unauthenticated-origin" => AddressField::UnauthenticatedOrigin,
            "destination" => AddressField::Destination,
            "original-destination" => AddressField::OriginalDestination,
            "originating-zone" => AddressField::OriginatingZone,
            "registered-origin" | "originating-user" => {
                return Err(CplError::Unsupported { at: self.at(el), what: "field needing registration data".into() });
            }
            _ => return Err(self.bad_value(el, "field", "origin, destination, original-destination or an Expressway field")),
        };
        let subfield = match el.attribute("subfield") {
            None => None,
            Some(_) if field == AddressField::OriginatingZone => {
                return Err(self.bad_value(el, "subfield", "nothing: originating-zone has no subfields"));
            }
            Some("address-type") => Some(Subfield::AddressType),
            Some("user") => Some(Subfield::User),
            Some("host") => Some(Subfield::Host),
            Some("port") => Some(Subfield::Port),
            Some("tel") => Some(Subfield::Tel),
            Some("display") => Some(Subfield::Display),
            Some(_) => return Err(self.bad_value(el, "subfield", "address-type, user, host, port, tel or display")),
        };
        let zones = self.zones;
        let test = |p: &Self, out: XmlNode<'_, 'input>| -> Result<AddressTest, CplError> {
            p.check_attrs(out, &["is", "contains", "subdomain-of", "regex"], &[])?;
            let given: Vec<_> = out.attributes().filter(|a| a.namespace().is_none()).collect();
            let [attr] = given.as_slice() else {
                return Err(CplError::OneMatchOperator { at: p.at(out) });
            };
            let value = attr.value().to_owned();
            let test = match attr.name() {
                "is" => AddressTest::Is(value),
                "contains" => AddressTest::Contains(value),
                "subdomain-of" => AddressTest::SubdomainOf(value),
                _ => AddressTest::Regex(p.pattern(out, &value)?),
            };
            if let (AddressField::OriginatingZone, AddressTest::Is(zone)) = (field, &test) {
                if !zones.contains(&zone.as_str()) {
                    return Err(CplError::UnknownZone { at: p.at(out), zone: zone.clone() });
                }
            }
            Ok(test)
        };
        let (outputs, tail) = self.outputs(el, depth, "address", test, true)?;
        self.push(el, "address-switch", NodeKind::AddressSwitch { field, subfield, outputs, tail })
    }

    pub(crate) fn string_switch(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["field"], &[])?;
        let field = match self.required(el, "field")? {
            "subject" => StringField::Subject,
            "organization" => StringField::Organization,
            "user-agent" => StringField::UserAgent,
            "language" => StringField::Language,
            "display" => StringField::Display,
            _ => return Err(self.bad_value(el, "field", "subject, organization, user-agent, language or display")),
        };
        let test = |p: &Self, out: XmlNode<'_, 'input>| -> Result<StringTest, CplError> {
            p.check_attrs(out, &["is", "contains"], &[])?;
            match (out.attribute("is"), out.attribute("contains")) {
                (Some(v), None) => Ok(StringTest::Is(v.to_owned())),
                (None, Some(v)) => Ok(StringTest::Contains(v.to_owned())),
                _ => Err(CplError::OneMatchOperator { at: p.at(out) }),
            }
        };
        let (outputs, tail) = self.outputs(el, depth, "string", test, true)?;
        self.push(el, "string-switch", NodeKind::StringSwitch { field, outputs, tail })
    }

    pub(crate) fn time_switch(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["tzid", "tzurl"], &[])?;
        let tz: Tz = match el.attribute("tzid") {
            Some(id) => id.parse().map_err(|_| CplError::UnknownTimeZone { at: self.at(el), tzid: id.to_owned() })?,
            None if el.attribute("tzurl").is_some() => {
                return Err(self.bad_value(el, "tzurl", "a tzid as well: time zones are never fetched"));
            }
            None => Tz::UTC,
        };
        let test = |p: &Self, out: XmlNode<'_, 'input>| -> Result<TimeSpec, CplError> {
            p.check_attrs(out, TIME_ATTRS, UNSUPPORTED_TIME)?;
            TimeSpec::parse(|name| out.attribute(name), tz).map_err(|e| CplError::BadTime {
                at: p.at(out),
                attribute: e.attribute,
                reason: e.reason,
            })
        };
        let (outputs, tail) = self.outputs(el, depth, "time", test, true)?;
        self.push(el, "time-switch", NodeKind::TimeSwitch { tz, outputs, tail })
    }

    pub(crate) fn priority_switch(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &[], &[])?;
        let test = |p: &Self, out: XmlNode<'_, 'input>| -> Result<PriorityTest, CplError> {
            p.check_attrs(out, &["less", "greater", "equal"], &[])?;
            match (out.attribute("less"), out.attribute("greater"), out.attribute("equal")) {
                (Some(v), None, None) => Ok(PriorityTest::Less(PriorityLevel::parse(v))),
                (None, Some(v), None) => Ok(PriorityTest::Greater(PriorityLevel::parse(v))),
                (None, None, Some(v)) => Ok(PriorityTest::Equal(PriorityLevel::parse(v))),
                _ => Err(CplError::OneMatchOperator { at: p.at(out) }),
            }
        };
        let (outputs, tail) = self.outputs(el, depth, "priority", test, false)?;
        self.push(el, "priority-switch", NodeKind::PrioritySwitch { outputs, tail })
    }

    /// Expressway `taa:rule-switch`: each `taa:rule` holds regexes that must all match.
    pub(crate) fn rule_switch(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &[], &[])?;
        let test = |p: &Self, out: XmlNode<'_, 'input>| -> Result<TaaRule, CplError> {
            if p.ns(out)? != Ns::Taa {
                return Err(p.unexpected(out, "<taa:rule-switch> (expected taa:rule)"));
            }
            let origins = ["origin", "authenticated-origin", "unauthenticated-origin"];
            let mut allowed = origins.to_vec();
            allowed.extend(["originating-zone", "destination"]);
            p.check_attrs(out, &allowed, &["registered-origin", "originating-user", "message-regex"])?;
            let mut rule = TaaRule::default();
            for (name, field) in origins.into_iter().zip([
                AddressField::AuthenticatedOrigin,
                AddressField::AuthenticatedOrigin,
                AddressField::UnauthenticatedOrigin,
            ]) {
                if let Some(v) = out.attribute(name) {
                    if rule.origin.is_some() {
                        return Err(p.bad_value(out, "origin", "only one of origin, authenticated-origin, unauthenticated-origin"));
                    }
                    rule.origin = Some((field, p.pattern(out, v)?));
                }
            }
            rule.zone = out.attribute("originating-zone").map(|v| p.pattern(out, v)).transpose()?;
            rule.destination = out.attribute("destination").map(|v| p.pattern(out, v)).transpose()?;
            Ok(rule)
        };
        let (rules, tail) = self.outputs(el, depth, "rule", test, false)?;
        self.push(el, "taa:rule-switch", NodeKind::RuleSwitch { rules, tail })
    }

    /// RFC 3880 §5.1 `location url= priority= clear=`; Expressway's `taa:location` may instead
    /// rewrite the destination with `regex=` and `replace=`.
    pub(crate) fn location(&mut self, el: XmlNode<'_, 'input>, ns: Ns, depth: usize) -> Result<NodeId, CplError> {
        let (allowed, unsupported): (&[&str], &[&str]) = match ns {
            Ns::Cpl => (&["url", "priority", "clear"], &[]),
            Ns::Taa => (
                &["url", "priority", "clear", "regex", "replace"],
                &["source-url-for-message", "source-url-for-message-regex", "source-url-for-message-replace"],
            ),
        };
        self.check_attrs(el, allowed, unsupported)?;
        let url = match (el.attribute("url"), el.attribute("regex"), el.attribute("replace")) {
            (Some(url), None, None) => LocationUrl::Fixed(url.to_owned()),
            (None, Some(regex), Some(replace)) => {
                LocationUrl::Rewrite { regex: self.pattern(el, regex)?, replace: expressway_replacement(replace) }
            }
            _ => return Err(self.bad_value(el, "url", "either url, or regex with replace")),
        };
        let priority = match el.attribute("priority") {
            None => None,
            Some("random") if ns == Ns::Taa => None,
            Some(v) => Some(
                v.parse::<f32>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| self.bad_value(el, "priority", "a number from 0.0 to 1.0"))?,
            ),
        };
        let clear = self.yes_no(el, "clear", false)?;
        let next = self.content(el, depth)?;
        let element = if ns == Ns::Taa { "taa:location" } else { "location" };
        self.push(el, element, NodeKind::Location { url, priority, clear, next })
    }

    pub(crate) fn pattern(&self, el: XmlNode<'_, '_>, pattern: &str) -> Result<Pattern, CplError> {
        Pattern::compile(pattern).map_err(|error| CplError::InvalidPattern { at: self.at(el), error })
    }
}

/// Expressway writes capture references as `\1`; the regex crate wants `${1}`.
fn expressway_replacement(replace: &str) -> String {
    let mut out = String::with_capacity(replace.len() + 8);
    let mut chars = replace.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str("${");
                out.push(*d);
                out.push('}');
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::expressway_replacement;

    #[test]
    fn backslash_references_become_regex_crate_references() {
        assert_eq!(expressway_replacement(r"\1@ent-pa.com"), "${1}@ent-pa.com");
        assert_eq!(expressway_replacement(r"a$b\x"), r"a$$b\x");
    }
}
