//! CPL XML → typed tree, with every check done here so that execution never meets a surprise.
//!
//! Accepted: RFC 3880 (`urn:ietf:params:xml:ns:cpl`, or no namespace) and the Expressway
//! extensions (`http://www.tandberg.net/cpl-extensions`: `routed`, `rule-switch`, `rule`,
//! `location`). Refused with the element's line: unknown elements and attributes, more than one
//! node in an output, `sub` references that are not to an earlier subaction (RFC 3880 §9, which
//! rules out recursion), and features a proxy cannot honour (`mail`, `log`, `language-switch`).

use std::collections::{HashMap, HashSet};

use roxmltree::{Document, Node as XmlNode, ParsingOptions};

use super::tree::{Next, Node, NodeId, NodeKind, ProxyOutputs};
use super::CplError;
use crate::source::{Location, SourceText};
use crate::verdict::Ordering;

/// RFC 3880 namespace.
pub(crate) const CPL_NS: &str = "urn:ietf:params:xml:ns:cpl";
/// Expressway extension namespace.
pub(crate) const TAA_NS: &str = "http://www.tandberg.net/cpl-extensions";
/// Largest script accepted.
pub(crate) const MAX_SCRIPT_BYTES: usize = 1 << 20;
/// Most nodes a script may have.
const MAX_NODES: usize = 10_000;
/// Deepest nesting of nodes.
const MAX_DEPTH: usize = 64;

/// What the parser produces.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) nodes: Vec<Node>,
    pub(crate) incoming: Option<Next>,
    pub(crate) outgoing: Option<Next>,
    pub(crate) routed: Option<Next>,
    pub(crate) root_line: u32,
}

/// Namespace class of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    Cpl,
    Taa,
}

pub(crate) struct Parser<'a, 'input> {
    pub(crate) doc: &'a Document<'input>,
    pub(crate) src: SourceText<'a>,
    pub(crate) zones: &'a [&'a str],
    pub(crate) nodes: Vec<Node>,
    subs: HashMap<String, (NodeId, Location)>,
    all_subs: HashSet<String>,
    current_sub: Option<String>,
    /// The script has a `taa:routed` section: Expressway field meanings apply.
    pub(crate) expressway: bool,
}

/// Parses and validates a CPL script.
pub(crate) fn parse(src: SourceText<'_>, zones: &[&str]) -> Result<Parsed, CplError> {
    if src.text.len() > MAX_SCRIPT_BYTES {
        return Err(CplError::TooLarge { file: src.file.to_owned(), limit: MAX_SCRIPT_BYTES });
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit: 200_000, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(src.text, options).map_err(|e| {
        let pos = e.pos();
        CplError::Xml { at: src.at(pos.row, pos.col), message: e.to_string() }
    })?;
    let mut parser = Parser {
        doc: &doc,
        src,
        zones,
        nodes: Vec::new(),
        subs: HashMap::new(),
        all_subs: HashSet::new(),
        current_sub: None,
        expressway: false,
    };
    parser.script(doc.root_element())
}

impl<'a, 'input> Parser<'a, 'input> {
    pub(crate) fn at(&self, node: XmlNode<'_, '_>) -> Location {
        let pos = self.doc.text_pos_at(node.range().start);
        self.src.at(pos.row, pos.col)
    }

    pub(crate) fn line(&self, node: XmlNode<'_, '_>) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    /// The element's namespace class, refusing foreign namespaces.
    pub(crate) fn ns(&self, el: XmlNode<'_, '_>) -> Result<Ns, CplError> {
        match el.tag_name().namespace() {
            None | Some(CPL_NS) => Ok(Ns::Cpl),
            Some(TAA_NS) => Ok(Ns::Taa),
            Some(_) => Err(self.unexpected(el, "an element of a foreign namespace")),
        }
    }

    pub(crate) fn unexpected(&self, el: XmlNode<'_, '_>, context: &'static str) -> CplError {
        CplError::UnexpectedElement { at: self.at(el), element: el.tag_name().name().to_owned(), context }
    }

    /// Refuses attributes outside `allowed` (namespaced ones, such as `xsi:`, are ignored).
    pub(crate) fn check_attrs(&self, el: XmlNode<'_, '_>, allowed: &[&str], unsupported: &[&str]) -> Result<(), CplError> {
        for attr in el.attributes().filter(|a| a.namespace().is_none()) {
            if unsupported.contains(&attr.name()) {
                return Err(CplError::Unsupported { at: self.at(el), what: format!("attribute `{}`", attr.name()) });
            }
            if !allowed.contains(&attr.name()) {
                return Err(CplError::UnknownAttribute {
                    at: self.at(el),
                    element: el.tag_name().name().to_owned(),
                    attribute: attr.name().to_owned(),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn required<'n>(&self, el: XmlNode<'n, 'input>, name: &'static str) -> Result<&'n str, CplError>
    where
        'input: 'n,
    {
        el.attribute(name).ok_or_else(|| CplError::MissingAttribute {
            at: self.at(el),
            element: el.tag_name().name().to_owned(),
            attribute: name,
        })
    }

    pub(crate) fn bad_value(&self, el: XmlNode<'_, '_>, attribute: &'static str, expected: &'static str) -> CplError {
        CplError::BadValue {
            at: self.at(el),
            element: el.tag_name().name().to_owned(),
            attribute,
            value: el.attribute(attribute).unwrap_or("").to_owned(),
            expected,
        }
    }

    /// `yes`/`no` attribute with a default.
    pub(crate) fn yes_no(&self, el: XmlNode<'_, '_>, name: &'static str, default: bool) -> Result<bool, CplError> {
        match el.attribute(name) {
            None => Ok(default),
            Some("yes") => Ok(true),
            Some("no") => Ok(false),
            Some(_) => Err(self.bad_value(el, name, "yes or no")),
        }
    }

    /// Element children, refusing stray text.
    pub(crate) fn elements<'n>(&self, el: XmlNode<'n, 'input>) -> Result<Vec<XmlNode<'n, 'input>>, CplError> {
        let mut out = Vec::new();
        for child in el.children() {
            if child.is_element() {
                out.push(child);
            } else if child.is_text() && !child.text().unwrap_or("").trim().is_empty() {
                return Err(CplError::StrayText { at: self.at(child) });
            }
        }
        Ok(out)
    }

    /// The content of an output or action container: zero or one node.
    pub(crate) fn content(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<Next, CplError> {
        match self.elements(el)?.as_slice() {
            [] => Ok(None),
            [node] => self.node(*node, depth + 1).map(Some),
            [_, extra, ..] => Err(CplError::ExtraNode { at: self.at(*extra), container: el.tag_name().name().to_owned() }),
        }
    }

    /// An output that may stand once in its parent (`<incoming>`, `<success>`, `<busy>`, …): its
    /// content goes into `slot`; a second one is [`CplError::Duplicate`].
    fn output_once(&mut self, slot: &mut Option<Next>, child: XmlNode<'_, 'input>, depth: usize) -> Result<(), CplError> {
        if slot.is_some() {
            return Err(CplError::Duplicate { at: self.at(child), element: child.tag_name().name().to_owned() });
        }
        self.check_attrs(child, &[], &[])?;
        *slot = Some(self.content(child, depth)?);
        Ok(())
    }

    pub(crate) fn push(&mut self, el: XmlNode<'_, '_>, element: &'static str, kind: NodeKind) -> Result<NodeId, CplError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(CplError::TooManyNodes { at: self.at(el), limit: MAX_NODES });
        }
        self.nodes.push(Node { kind, element, line: self.line(el) });
        Ok(self.nodes.len() - 1)
    }

    fn script(&mut self, root: XmlNode<'_, 'input>) -> Result<Parsed, CplError> {
        if root.tag_name().name() != "cpl" || self.ns(root)? != Ns::Cpl {
            return Err(self.unexpected(root, "the document root (expected <cpl>)"));
        }
        self.check_attrs(root, &[], &[])?;
        let children = self.elements(root)?;
        self.all_subs = children
            .iter()
            .filter(|c| c.tag_name().name() == "subaction")
            .filter_map(|c| c.attribute("id"))
            .map(str::to_owned)
            .collect();
        self.expressway =
            children.iter().any(|c| c.tag_name().name() == "routed" && c.tag_name().namespace() == Some(TAA_NS));
        let (mut incoming, mut outgoing, mut routed) = (None, None, None);
        for child in children {
            let slot = match (self.ns(child)?, child.tag_name().name()) {
                (Ns::Cpl, "ancillary") => continue,
                (Ns::Cpl, "subaction") => {
                    self.subaction(child)?;
                    continue;
                }
                (Ns::Cpl, "incoming") => &mut incoming,
                (Ns::Cpl, "outgoing") => &mut outgoing,
                (Ns::Taa, "routed") => &mut routed,
                _ => return Err(self.unexpected(child, "the top level of <cpl>")),
            };
            self.output_once(slot, child, 0)?;
        }
        if incoming.is_none() && outgoing.is_none() && routed.is_none() {
            return Err(CplError::NoAction { at: self.at(root) });
        }
        let nodes = std::mem::take(&mut self.nodes);
        Ok(Parsed { nodes, incoming, outgoing, routed, root_line: self.line(root) })
    }

    fn subaction(&mut self, el: XmlNode<'_, 'input>) -> Result<(), CplError> {
        self.check_attrs(el, &["id"], &[])?;
        let id = self.required(el, "id")?.to_owned();
        if let Some((_, first)) = self.subs.get(&id) {
            return Err(CplError::DuplicateSubaction { at: self.at(el), id, first: first.clone() });
        }
        self.current_sub = Some(id.clone());
        let body = self.content(el, 0)?;
        self.current_sub = None;
        let body = body.ok_or_else(|| CplError::EmptySubaction { at: self.at(el), id: id.clone() })?;
        let at = self.at(el);
        self.subs.insert(id, (body, at));
        Ok(())
    }

    /// One node, dispatched on its element name.
    pub(crate) fn node(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        if depth > MAX_DEPTH {
            return Err(CplError::TooDeep { at: self.at(el), limit: MAX_DEPTH });
        }
        match (self.ns(el)?, el.tag_name().name()) {
            (Ns::Cpl, "address-switch") => self.address_switch(el, depth),
            (Ns::Cpl, "string-switch") => self.string_switch(el, depth),
            (Ns::Cpl, "time-switch") => self.time_switch(el, depth),
            (Ns::Cpl, "priority-switch") => self.priority_switch(el, depth),
            (Ns::Taa, "rule-switch") => self.rule_switch(el, depth),
            (ns, "location") => self.location(el, ns, depth),
            (Ns::Cpl, "lookup") => self.lookup(el, depth),
            (Ns::Cpl, "remove-location") => self.remove_location(el, depth),
            (Ns::Cpl, "proxy") => self.proxy(el, depth),
            (Ns::Cpl, "redirect") => self.redirect(el),
            (Ns::Cpl, "reject") => self.reject(el),
            (Ns::Cpl, "sub") => self.sub(el),
            (Ns::Cpl, "language-switch" | "mail" | "log") => {
                Err(CplError::Unsupported { at: self.at(el), what: format!("<{}>", el.tag_name().name()) })
            }
            _ => Err(self.unexpected(el, "a place where a CPL node belongs")),
        }
    }

    fn lookup(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["source", "timeout", "clear"], &[])?;
        let source = self.required(el, "source")?.to_owned();
        let timeout = self.seconds(el, "timeout", 30)?;
        let clear = self.yes_no(el, "clear", false)?;
        let (mut success, mut notfound, mut failure) = (None, None, None);
        for child in self.elements(el)? {
            let slot = match (self.ns(child)?, child.tag_name().name()) {
                (Ns::Cpl, "success") => &mut success,
                (Ns::Cpl, "notfound") => &mut notfound,
                (Ns::Cpl, "failure") => &mut failure,
                _ => return Err(self.unexpected(child, "<lookup> (expected success, notfound or failure)")),
            };
            self.output_once(slot, child, depth)?;
        }
        let kind = NodeKind::Lookup {
            source,
            timeout,
            clear,
            success: success.flatten(),
            notfound: notfound.flatten(),
            failure: failure.flatten(),
        };
        self.push(el, "lookup", kind)
    }

    fn remove_location(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["location"], &["param", "value"])?;
        let location = el.attribute("location").map(str::to_owned);
        let next = self.content(el, depth)?;
        self.push(el, "remove-location", NodeKind::RemoveLocation { location, next })
    }

    fn proxy(&mut self, el: XmlNode<'_, 'input>, depth: usize) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["timeout", "recurse", "ordering", "stop-on-busy"], &[])?;
        let timeout = self.seconds(el, "timeout", 20)?;
        let timeout_given = el.attribute("timeout").is_some();
        let recurse = self.yes_no(el, "recurse", true)?;
        self.yes_no(el, "stop-on-busy", false)?;
        let ordering = match el.attribute("ordering") {
            None | Some("parallel") => Ordering::Parallel,
            Some("sequential") => Ordering::Sequential,
            Some("first-only") => Ordering::FirstOnly,
            Some(_) => return Err(self.bad_value(el, "ordering", "parallel, sequential or first-only")),
        };
        let mut outputs = ProxyOutputs::default();
        for child in self.elements(el)? {
            let slot = match (self.ns(child)?, child.tag_name().name()) {
                (Ns::Cpl, "busy") => &mut outputs.busy,
                (Ns::Cpl, "noanswer") => &mut outputs.noanswer,
                (Ns::Cpl, "redirection") => &mut outputs.redirection,
                (Ns::Cpl, "failure") => &mut outputs.failure,
                (Ns::Cpl, "default") => &mut outputs.default,
                _ => return Err(self.unexpected(child, "<proxy> (expected busy, noanswer, redirection, failure or default)")),
            };
            self.output_once(slot, child, depth)?;
        }
        self.push(el, "proxy", NodeKind::Proxy { timeout, timeout_given, recurse, ordering, outputs })
    }

    fn redirect(&mut self, el: XmlNode<'_, 'input>) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["permanent"], &[])?;
        let permanent = self.yes_no(el, "permanent", false)?;
        self.no_children(el)?;
        self.push(el, "redirect", NodeKind::Redirect { permanent })
    }

    /// RFC 3880 §6.3: `status` is a SIP 4xx–6xx code or one of busy / notfound / reject / error.
    fn reject(&mut self, el: XmlNode<'_, 'input>) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["status", "reason"], &[])?;
        let status = match self.required(el, "status")? {
            "busy" => 486,
            "notfound" => 404,
            "reject" => 603,
            "error" => 500,
            code => code
                .parse::<u16>()
                .ok()
                .filter(|c| (400..=699).contains(c))
                .ok_or_else(|| self.bad_value(el, "status", "a SIP status 400-699, busy, notfound, reject or error"))?,
        };
        let reason = match el.attribute("reason") {
            Some(r) if r.is_empty() || r.chars().any(char::is_control) => {
                return Err(self.bad_value(el, "reason", "printable text without line breaks"));
            }
            Some(r) => r.to_owned(),
            None => crate::rules::standard_reason(status).to_owned(),
        };
        self.no_children(el)?;
        self.push(el, "reject", NodeKind::Reject { status, reason })
    }

    /// RFC 3880 §9: a `sub` may only name a subaction defined earlier, never the one it is in.
    fn sub(&mut self, el: XmlNode<'_, 'input>) -> Result<NodeId, CplError> {
        self.check_attrs(el, &["ref"], &[])?;
        let id = self.required(el, "ref")?.to_owned();
        self.no_children(el)?;
        if self.current_sub.as_deref() == Some(id.as_str()) {
            return Err(CplError::RecursiveSub { at: self.at(el), id });
        }
        match self.subs.get(&id) {
            Some((target, _)) => {
                let target = *target;
                self.push(el, "sub", NodeKind::Sub { id, target })
            }
            None if self.all_subs.contains(&id) => Err(CplError::LaterSub { at: self.at(el), id }),
            None => Err(CplError::UnknownSub { at: self.at(el), id }),
        }
    }

    pub(crate) fn no_children(&self, el: XmlNode<'_, 'input>) -> Result<(), CplError> {
        match self.elements(el)?.first() {
            Some(child) => Err(self.unexpected(*child, "an action that takes no outputs")),
            None => Ok(()),
        }
    }

    /// A timeout in seconds, 1–86400 (Expressway's range).
    pub(crate) fn seconds(&self, el: XmlNode<'_, '_>, name: &'static str, default: u32) -> Result<u32, CplError> {
        match el.attribute(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .ok_or_else(|| self.bad_value(el, name, "seconds from 1 to 86400")),
        }
    }
}
