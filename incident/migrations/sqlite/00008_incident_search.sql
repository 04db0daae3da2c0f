-- +goose Up
-- The call log's search (q=) as a trigram index: an FTS5 table over the
-- searched columns, its content read from incidents (nothing is stored
-- twice), kept current by the triggers below. A phrase query finds any
-- substring of three characters or more, ignoring case, in one column.
CREATE VIRTUAL TABLE incidents_search USING fts5(
    from_number, caller_name, transcript, answered_by,
    content = 'incidents', content_rowid = 'id', tokenize = 'trigram'
);
-- Index the incidents already written.
INSERT INTO incidents_search (incidents_search) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER incidents_search_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_search (rowid, from_number, caller_name, transcript, answered_by)
        VALUES (new.id, new.from_number, new.caller_name, new.transcript, new.answered_by);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER incidents_search_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_search (incidents_search, rowid, from_number, caller_name, transcript, answered_by)
        VALUES ('delete', old.id, old.from_number, old.caller_name, old.transcript, old.answered_by);
END;
-- +goose StatementEnd

-- Most updates (status, times, state) change no searched column: only
-- those that do are indexed again.
-- +goose StatementBegin
CREATE TRIGGER incidents_search_update AFTER UPDATE OF from_number, caller_name, transcript, answered_by ON incidents
WHEN old.from_number IS NOT new.from_number OR old.caller_name IS NOT new.caller_name
    OR old.transcript IS NOT new.transcript OR old.answered_by IS NOT new.answered_by
BEGIN
    INSERT INTO incidents_search (incidents_search, rowid, from_number, caller_name, transcript, answered_by)
        VALUES ('delete', old.id, old.from_number, old.caller_name, old.transcript, old.answered_by);
    INSERT INTO incidents_search (rowid, from_number, caller_name, transcript, answered_by)
        VALUES (new.id, new.from_number, new.caller_name, new.transcript, new.answered_by);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER incidents_search_update;
DROP TRIGGER incidents_search_delete;
DROP TRIGGER incidents_search_insert;
DROP TABLE incidents_search;
