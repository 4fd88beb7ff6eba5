//! Stores for the HL7 interface: the message log behind the DQA – Interface Activity report, and each clinic's interface status (onboarding QA or production).
