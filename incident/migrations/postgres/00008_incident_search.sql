-- +goose Up
-- The call log's search (q=) as a trigram index: pg_trgm's GIN index over
-- the searched columns joined by chr(31) (incident.searchText spells the
-- same expression), which ILIKE '%…%' reads. PostgreSQL keeps it current.
-- The extension goes in schema public, where one schema per instance (or
-- per test) finds it and dropping such a schema leaves it. Where it cannot
-- be created (not installed, or the account may not create it), there is
-- no index and searches walk the rows with ILIKE; hotline serve says so at
-- start.
-- +goose StatementBegin
DO $$
DECLARE
    ns text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm unavailable (%): the call log searches without an index', SQLERRM;
    END;
    SELECT n.nspname INTO ns FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF ns IS NOT NULL THEN
        EXECUTE format($f$CREATE INDEX incidents_search ON incidents USING gin
            ((from_number || chr(31) || caller_name || chr(31) || transcript || chr(31) || COALESCE(answered_by, '')) %I.gin_trgm_ops)$f$, ns);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS incidents_search;
