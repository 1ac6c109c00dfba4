//! What routing reads from a request: the parts of the message and of its arrival that
//! causeway-routing's [`LocateInput`] borrows, owned for the length of one decision.

use causeway_routing::{Authentication, LocateInput, ZoneClassified};
use causeway_sip::{HeaderName, Message};

use crate::locate::RequestCtx;

/// One request's routing inputs.
pub(crate) struct RequestView {
    request_uri: String,
    from: Option<String>,
    asserted: Vec<String>,
    routes: Vec<String>,
    contact: Option<String>,
    max_forwards: Option<u8>,
}

impl RequestView {
    /// The Request-URI after RFC 3261 §16.4, and the Route values from the topmost one that
    /// is not ours (the proxy has already taken ours off, §16.4).
    pub(crate) fn of(request: &Message, ctx: &RequestCtx<'_>) -> Self {
        let text = |name| request.header(name).and_then(|h| std::str::from_utf8(h.value).ok()).map(str::to_owned);
        let values = |name| request.values(name).filter_map(Result::ok).map(|v| v.text.to_owned()).collect::<Vec<_>>();
        let mut asserted = values(HeaderName::PAssertedIdentity);
        asserted.extend(values(HeaderName::PPreferredIdentity));
        Self {
            request_uri: ctx.request_uri.to_string(),
            from: text(HeaderName::From),
            asserted,
            routes: remaining_routes(request, ctx),
            contact: request.values(HeaderName::Contact).filter_map(Result::ok).map(|v| v.text.to_owned()).next(),
            max_forwards: request.max_forwards().ok().flatten(),
        }
    }

    /// The routing engine's view, with `local_hosts` (this node's names) to skip in Route.
    pub(crate) fn input<'a>(
        &'a self,
        source: &'a ZoneClassified,
        authentication: &'a Authentication,
        local_hosts: &'a [String],
    ) -> LocateInput<'a> {
        let mut input = LocateInput::new(source, authentication, &self.request_uri);
        input.from = self.from.as_deref();
        input.asserted = &self.asserted;
        input.routes = &self.routes;
        input.contact = self.contact.as_deref();
        input.max_forwards = self.max_forwards;
        input.local_hosts = local_hosts;
        input
    }
}

/// Route values from the one `ctx.route` names on (RFC 3261 §16.4 removed the ones before it,
/// which named this node); none when no Route is left.
fn remaining_routes(request: &Message, ctx: &RequestCtx<'_>) -> Vec<String> {
    let Some(next) = &ctx.route else { return Vec::new() };
    let values: Vec<_> = request.values(HeaderName::Route).filter_map(Result::ok).collect();
    let names_next = |text: &str| {
        causeway_sip::header::addr::NameAddr::parse(text)
            .ok()
            .and_then(|a| a.uri().ok())
            .is_some_and(|u| u.as_sip().is_some_and(|u| u.equivalent(next)))
    };
    match values.iter().position(|v| names_next(v.text)) {
        Some(first) => values.iter().skip(first).map(|v| v.text.to_owned()).collect(),
        None => vec![format!("<{next}>")],
    }
}
