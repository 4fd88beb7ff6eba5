//! MLLP (minimal lower layer protocol) listener for HL7 v2 messages from EHR interface engines.
