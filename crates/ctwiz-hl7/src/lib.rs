//! HL7 v2.5.1 immunization messaging for ctwiz.
//!
//! * [`er7`]: the pipe-and-hat codec — a zero-copy [`er7::parse`] and an
//!   owned [`er7::MessageBuf`] writer that escapes values ([`escape`]).
//! * [`batch`]: FHS/BHS/BTS/FTS batch files, and a streaming splitter.
//! * [`import`]: the batch door — a file of messages through the interface,
//!   in resumable transactions, one ACK per message.
//! * [`datatype`] and [`segment`]: typed HL7 data types and the segments of
//!   the CDC IG R1.5 (MSH, PID, PD1, NK1, PV1, ORC, RXA, RXR, OBX, QPD, RCP,
//!   MSA, ERR, QAK).
//! * [`message`]: VXU^V04 and QBP^Q11 read into typed messages and
//!   ctwiz-core values ([`message::vxu::Vxu`], [`message::qbp::Qbp`]), with
//!   problems as ERR-ready [`message::Issue`]s; ACK^V04 and RSP^K11
//!   (Z31/Z32/Z33/Z42) builders in [`message::ack`] and [`message::rsp`].
//!
//! The store-backed use cases (validate, match, persist, then acknowledge)
//! live above this codec and call these functions.
//!
//! ```
//! let text = "MSH|^~\\&|EHR|CLINIC|IIS|STATE|20240101||VXU^V04^VXU_V04|1|P|2.5.1\r\
//!             PID|1||MRN1^^^CLINIC^MR||Doe^Jane\\T\\Ann||20230115|F";
//! let msg = ctwiz_hl7::er7::parse(text)?;
//! let pid = msg.segment("PID").expect("PID present");
//! assert_eq!(pid.field(5).component(2).text(), "Jane&Ann");
//! assert_eq!(msg.to_er7(), format!("{text}\r"));
//! # Ok::<(), ctwiz_hl7::ParseError>(())
//! ```

pub mod batch;
pub mod er7;
pub mod error;
pub mod escape;
pub mod import;
pub mod interface;

pub use error::ParseError;
pub use escape::Delimiters;
pub mod datatype;
pub mod message;
pub mod segment;
