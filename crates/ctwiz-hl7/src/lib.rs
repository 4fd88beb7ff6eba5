//! HL7 v2.5.1 immunization messaging for ctwiz.
//!
//! * [`er7`]: the pipe-and-hat codec — a zero-copy [`er7::parse`] and an
//!   owned [`er7::MessageBuf`] writer that escapes values ([`escape`]).
//! * [`batch`]: FHS/BHS/BTS/FTS batch files, and a streaming splitter.
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

pub use error::ParseError;
pub use escape::Delimiters;
