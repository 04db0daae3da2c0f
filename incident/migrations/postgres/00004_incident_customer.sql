-- +goose Up
-- The customer who called (config customers[].id), NULL when unknown.
ALTER TABLE incidents ADD COLUMN customer TEXT;
CREATE INDEX incidents_customer_started ON incidents (customer, started_at);

-- +goose Down
DROP INDEX incidents_customer_started;
ALTER TABLE incidents DROP COLUMN customer;
