//! The CDC IIS SOAP 1.2 web service envelopes (WSDL 2011, namespace
//! `urn:cdc:iisb:2011`): reading requests and writing responses and faults
//! for the server, writing requests and reading responses for the client.
//! The transport itself (HTTP) lives in ctwiz-web and the CLI.

/// The WSDL's target namespace.
pub const NS: &str = "urn:cdc:iisb:2011";
/// SOAP 1.2 envelope namespace.
pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1 envelope namespace: the service answers it with a VersionMismatch fault.
pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The CDC IIS WSDL (2011, SOAP 1.2, schema inlined), vendored from
/// `shared/hl7/cdc-iis-2011-selfcontained.wsdl`.
pub const WSDL: &str = include_str!("cdc-iis-2011.wsdl");

/// The WSDL with its service address set to `location`.
pub fn wsdl_for(location: &str) -> String {
    WSDL.replace("https://localhost/IISService2011", &escape(location))
}

/// The `Content-Type` of SOAP 1.2 messages.
pub const CONTENT_TYPE: &str = "application/soap+xml; charset=utf-8";

/// An operation of the CDC WSDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    ConnectivityTest {
        echo_back: String,
    },
    SubmitSingleMessage {
        username: String,
        password: String,
        facility_id: String,
        hl7_message: String,
    },
}

/// The faults the WSDL declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `fault` (UnknownFault_Message): anything else that went wrong.
    Unknown,
    Security,
    MessageTooLarge,
    UnsupportedOperation,
}

impl FaultKind {
    /// The detail element name in the WSDL schema.
    pub fn element(self) -> &'static str {
        match self {
            FaultKind::Unknown => "fault",
            FaultKind::Security => "SecurityFault",
            FaultKind::MessageTooLarge => "MessageTooLargeFault",
            FaultKind::UnsupportedOperation => "UnsupportedOperationFault",
        }
    }
}

/// The SOAP 1.2 fault code (SOAP 1.2 part 1 §5.4.6): whose fault it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapCode {
    /// The envelope is not SOAP 1.2 (e.g. a SOAP 1.1 envelope).
    VersionMismatch,
    /// A header block marked `mustUnderstand` that this service does not process,
    /// by its qualified name (namespace, local name).
    MustUnderstand(String, String),
    /// The request was wrong (malformed, not allowed, too large).
    Sender,
    /// The service failed.
    Receiver,
}

impl SoapCode {
    fn value(&self) -> &'static str {
        match self {
            SoapCode::VersionMismatch => "soap:VersionMismatch",
            SoapCode::MustUnderstand(..) => "soap:MustUnderstand",
            SoapCode::Sender => "soap:Sender",
            SoapCode::Receiver => "soap:Receiver",
        }
    }

    /// The HTTP status of a fault with this code (SOAP 1.2 part 2 §7.5.1.2, table 20).
    pub fn http_status(&self) -> u16 {
        match self {
            SoapCode::Sender => 400,
            _ => 500,
        }
    }
}

/// A SOAP fault with the WSDL's Code/Reason/Detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} fault {code}: {reason} {detail}")]
pub struct Fault {
    pub kind: FaultKind,
    pub code: i64,
    pub reason: String,
    pub detail: String,
    /// soap:Code/soap:Value: Sender for every WSDL fault but `fault` (Receiver) unless
    /// set otherwise (a malformed request is the sender's fault).
    pub soap_code: SoapCode,
}

impl Fault {
    pub fn new(kind: FaultKind, reason: impl Into<String>, detail: impl Into<String>) -> Self {
        let code = match kind {
            FaultKind::Unknown => 0,
            FaultKind::Security => 10,
            FaultKind::MessageTooLarge => 20,
            FaultKind::UnsupportedOperation => 30,
        };
        Fault {
            kind,
            code,
            reason: reason.into(),
            detail: detail.into(),
            soap_code: match kind {
                FaultKind::Unknown => SoapCode::Receiver,
                _ => SoapCode::Sender,
            },
        }
    }

    /// The same fault, blamed on the sender (soap:Sender, HTTP 400).
    pub fn by_sender(mut self) -> Self {
        self.soap_code = SoapCode::Sender;
        self
    }

    /// The envelope is not SOAP 1.2 (SOAP 1.2 part 1 §5.4.7).
    pub fn version_mismatch(found: &str) -> Self {
        Fault {
            soap_code: SoapCode::VersionMismatch,
            ..Fault::new(
                FaultKind::Unknown,
                "this service speaks SOAP 1.2 only",
                format!("the envelope namespace is {found:?}; send {SOAP12:?}"),
            )
        }
    }

    /// A mandatory header block this service does not process (SOAP 1.2 part 1 §5.4.8).
    pub fn must_understand(namespace: &str, name: &str) -> Self {
        Fault {
            soap_code: SoapCode::MustUnderstand(namespace.into(), name.into()),
            ..Fault::new(
                FaultKind::Unknown,
                "a header block marked mustUnderstand is not understood by this service",
                format!("{{{namespace}}}{name}"),
            )
        }
    }
}

/// XML text escaping; CR is kept as a character reference because XML
/// parsers turn raw CR into LF, and HL7 segments end in CR.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soap:Envelope xmlns:soap=\"{SOAP12}\" xmlns:urn=\"{NS}\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

/// A `submitSingleMessage` request (client side).
pub fn submit_request(username: &str, password: &str, facility_id: &str, hl7: &str) -> String {
    envelope(&format!(
        "<urn:submitSingleMessage><urn:username>{}</urn:username><urn:password>{}</urn:password>\
         <urn:facilityID>{}</urn:facilityID><urn:hl7Message>{}</urn:hl7Message></urn:submitSingleMessage>",
        escape(username),
        escape(password),
        escape(facility_id),
        escape(hl7)
    ))
}

/// A `connectivityTest` request (client side).
pub fn connectivity_request(echo_back: &str) -> String {
    envelope(&format!(
        "<urn:connectivityTest><urn:echoBack>{}</urn:echoBack></urn:connectivityTest>",
        escape(echo_back)
    ))
}

/// The response to `op` (`submitSingleMessage` or `connectivityTest`) carrying `text`.
pub fn response(op: &str, text: &str) -> String {
    envelope(&format!(
        "<urn:{op}Response><urn:return>{}</urn:return></urn:{op}Response>",
        escape(text)
    ))
}

/// A SOAP 1.2 fault whose detail is the WSDL's fault element. A VersionMismatch
/// fault is a SOAP 1.1 envelope with an Upgrade header naming SOAP 1.2 (SOAP 1.2
/// part 1 appendix A: the sender reads 1.1); a MustUnderstand fault carries the
/// NotUnderstood header block (§5.4.8).
pub fn fault(f: &Fault) -> String {
    if f.soap_code == SoapCode::VersionMismatch {
        return format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <env:Envelope xmlns:env=\"{SOAP11}\"><env:Header>\
             <upg:Upgrade xmlns:upg=\"{SOAP12}\"><upg:SupportedEnvelope qname=\"ns1:Envelope\" xmlns:ns1=\"{SOAP12}\"/></upg:Upgrade>\
             </env:Header><env:Body><env:Fault><faultcode>env:VersionMismatch</faultcode>\
             <faultstring>{}</faultstring></env:Fault></env:Body></env:Envelope>",
            escape(&f.reason)
        );
    }
    let header = match &f.soap_code {
        SoapCode::MustUnderstand(ns, name) => format!(
            "<soap:Header><soap:NotUnderstood qname=\"nu:{}\" xmlns:nu=\"{}\"/></soap:Header>",
            escape(name),
            escape(ns)
        ),
        _ => String::new(),
    };
    let body = format!(
        "<soap:Fault><soap:Code><soap:Value>{}</soap:Value></soap:Code>\
         <soap:Reason><soap:Text xml:lang=\"en\">{}</soap:Text></soap:Reason>\
         <soap:Detail><urn:{el}><urn:Code>{}</urn:Code><urn:Reason>{}</urn:Reason><urn:Detail>{}</urn:Detail></urn:{el}></soap:Detail></soap:Fault>",
        f.soap_code.value(),
        escape(&f.reason),
        f.code,
        escape(&f.reason),
        escape(&f.detail),
        el = f.kind.element(),
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soap:Envelope xmlns:soap=\"{SOAP12}\" xmlns:urn=\"{NS}\">{header}<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

/// The `Content-Type` of a fault: SOAP 1.1's for a VersionMismatch (its envelope is 1.1).
pub fn fault_content_type(f: &Fault) -> &'static str {
    if f.soap_code == SoapCode::VersionMismatch {
        "text/xml; charset=utf-8"
    } else {
        CONTENT_TYPE
    }
}

fn body<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Option<roxmltree::Node<'a, 'i>> {
    let env = doc.root_element();
    if env.tag_name().name() != "Envelope" {
        return None;
    }
    body_of(env)
}

fn body_of<'a, 'i>(env: roxmltree::Node<'a, 'i>) -> Option<roxmltree::Node<'a, 'i>> {
    env.children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")?
        .children()
        .find(|n| n.is_element())
}

fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a header block is addressed to this service: no role, or the roles every
/// SOAP 1.2 node plays (`next`, `ultimateReceiver`); `none` is for nobody.
fn targets_us(block: roxmltree::Node<'_, '_>) -> bool {
    match block.attribute((SOAP12, "role")) {
        None => true,
        Some(role) => matches!(
            role.trim(),
            "" | "http://www.w3.org/2003/05/soap-envelope/role/next"
                | "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
        ),
    }
}

/// Reads a request envelope (server side): a SOAP 1.2 envelope whose header blocks
/// marked `mustUnderstand` are all ones this service processes (none: the CDC WSDL
/// carries credentials in the body), and whose body holds a WSDL operation.
pub fn parse_request(xml: &str) -> Result<Request, Fault> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Fault::new(
            FaultKind::Unknown,
            "the request is not well-formed XML",
            e.to_string(),
        )
        .by_sender()
    })?;
    let env = doc.root_element();
    let not_soap = || {
        Fault::new(
            FaultKind::Unknown,
            "the request is not a SOAP envelope with a body",
            "",
        )
        .by_sender()
    };
    if env.tag_name().name() != "Envelope" {
        return Err(not_soap());
    }
    match env.tag_name().namespace() {
        Some(SOAP12) => {}
        Some(other) if other == SOAP11 || other.contains("soap") => {
            return Err(Fault::version_mismatch(other))
        }
        _ => return Err(not_soap()),
    }
    let header = env
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Header");
    for block in header
        .iter()
        .flat_map(|h| h.children().filter(|n| n.is_element()))
    {
        let must = block
            .attribute((SOAP12, "mustUnderstand"))
            .is_some_and(|v| matches!(v.trim(), "true" | "1"));
        if must && targets_us(block) {
            let name = block.tag_name();
            return Err(Fault::must_understand(
                name.namespace().unwrap_or(""),
                name.name(),
            ));
        }
    }
    let op = body_of(env).ok_or_else(not_soap)?;
    match (op.tag_name().namespace(), op.tag_name().name()) {
        (Some(NS), "connectivityTest") => Ok(Request::ConnectivityTest {
            echo_back: child_text(op, "echoBack"),
        }),
        (Some(NS), "submitSingleMessage") => Ok(Request::SubmitSingleMessage {
            username: child_text(op, "username"),
            password: child_text(op, "password"),
            facility_id: child_text(op, "facilityID"),
            hl7_message: child_text(op, "hl7Message"),
        }),
        (ns, name) => Err(Fault::new(
            FaultKind::UnsupportedOperation,
            "unsupported operation",
            format!("{{{}}}{name} is not an operation of {NS}", ns.unwrap_or("")),
        )),
    }
}

/// Reads a response envelope (client side): the `return` text, or the fault.
pub fn parse_response(xml: &str) -> Result<String, Fault> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Fault::new(
            FaultKind::Unknown,
            "the response is not well-formed XML",
            e.to_string(),
        )
    })?;
    let node = body(&doc).ok_or_else(|| {
        Fault::new(
            FaultKind::Unknown,
            "the response is not a SOAP envelope with a body",
            "",
        )
    })?;
    if node.tag_name().name() == "Fault" {
        let detail = node
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == "Detail")
            .and_then(|d| d.children().find(|n| n.is_element()));
        let kind = match detail.map(|d| d.tag_name().name()) {
            Some("SecurityFault") => FaultKind::Security,
            Some("MessageTooLargeFault") => FaultKind::MessageTooLarge,
            Some("UnsupportedOperationFault") => FaultKind::UnsupportedOperation,
            _ => FaultKind::Unknown,
        };
        let reason: String = node
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == "Text")
            .and_then(|n| n.text())
            .unwrap_or("")
            .to_string();
        let mut f = Fault::new(
            kind,
            reason,
            detail.map(|d| child_text(d, "Detail")).unwrap_or_default(),
        );
        let value = node
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == "Value")
            .and_then(|n| n.text())
            .unwrap_or("");
        match value.rsplit(':').next().unwrap_or("") {
            "Sender" => f.soap_code = SoapCode::Sender,
            "Receiver" => f.soap_code = SoapCode::Receiver,
            _ => {}
        }
        if let Some(code) = detail.and_then(|d| child_text(d, "Code").trim().parse().ok()) {
            f.code = code;
        }
        return Err(f);
    }
    Ok(child_text(node, "return"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip_with_cr_and_markup() {
        let hl7 = "MSH|^~\\&|A|B\rPID|1||<x>&y\r";
        let req = submit_request("u", "p&w", "C1", hl7);
        assert_eq!(
            parse_request(&req),
            Ok(Request::SubmitSingleMessage {
                username: "u".into(),
                password: "p&w".into(),
                facility_id: "C1".into(),
                hl7_message: hl7.into(),
            })
        );
        assert_eq!(
            parse_response(&response("submitSingleMessage", hl7)),
            Ok(hl7.to_string())
        );
        let f = Fault::new(FaultKind::Security, "bad credentials", "user u");
        assert_eq!(parse_response(&fault(&f)), Err(f));
        assert_eq!(
            parse_request(&connectivity_request("hi")),
            Ok(Request::ConnectivityTest {
                echo_back: "hi".into()
            })
        );
        assert_eq!(
            parse_request("<x/>").map_err(|f| f.kind),
            Err(FaultKind::Unknown)
        );
    }
}
