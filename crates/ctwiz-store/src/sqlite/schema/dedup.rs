//! Deduplication history: what each merge changed, so a merge can be undone.

pub const MIGRATIONS: &[&str] = &[
    // 1: the merge journal. One row per merge, written in the merge's transaction: the
    // survivor's stored record before and after, and the ids of every row the merge moved
    // or changed (JSON, see `sqlite::unmerge::Journal`). `undone_at` is set by an unmerge.
    r#"
    CREATE TABLE merge_journal (
        id INTEGER PRIMARY KEY,
        survivor_id INTEGER NOT NULL REFERENCES patients (id),
        duplicate_id INTEGER NOT NULL REFERENCES patients (id),
        merged_at TEXT NOT NULL,
        merged_by TEXT NOT NULL,
        changes TEXT NOT NULL,
        undone_at TEXT,
        undone_by TEXT
    );
    CREATE INDEX merge_journal_duplicate ON merge_journal (duplicate_id);
    CREATE INDEX merge_journal_survivor ON merge_journal (survivor_id);
    "#,
    // 2: a pair queued by the duplicate scan keeps the match probability and each field's
    // evidence (`ctwiz_core::matching::Evidence::encode`) of the model that found it, so
    // the review shows what the scan saw. NULL for pairs flagged by ingest.
    r#"
    ALTER TABLE dedup_review ADD COLUMN score REAL;
    ALTER TABLE dedup_review ADD COLUMN evidence TEXT;
    "#,
    // 3: ingest asks how many live records carry a given name, to tell look-alike
    // co-twins' names (both in use) from a slip (`DedupStore::given_name_counts`): one
    // count on this index per name, asked only when a look-alike of the same birth date
    // is a candidate. Partial, so a merged record's name is not counted.
    r#"
    CREATE INDEX patients_given_live ON patients (given_norm) WHERE merged_into IS NULL;
    "#,
];
