//! Files people download and open elsewhere: every export format lives here, below the
//! doors, so the web and the CLI write the same bytes.

pub mod csv;
