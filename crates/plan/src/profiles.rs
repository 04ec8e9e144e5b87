//! Measured performance-profile tables (JSON and CSV).
