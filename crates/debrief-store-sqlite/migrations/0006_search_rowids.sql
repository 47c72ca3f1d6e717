-- Search rows are keyed by the postmortem's id shifted left by 24 bits plus the row's length in
-- tokens (at most 16777215), so ranking reads a match's length from its rowid instead of looking
-- it up for every match (see src/rank.rs). The index is rebuilt once, with the same text.
CREATE VIRTUAL TABLE postmortem_search_keyed USING fts5 (
    title, summary, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO postmortem_search_keyed (rowid, title, summary, body)
    SELECT (rowid << 24) + min(debrief_tokens(title, summary, body), 16777215), title, summary, body
    FROM postmortem_search ORDER BY rowid;
DROP TABLE postmortem_search;
ALTER TABLE postmortem_search_keyed RENAME TO postmortem_search;
