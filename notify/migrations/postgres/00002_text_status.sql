-- +goose Up
-- As sqlite/00002. What became of each text after Twilio accepted it, from
-- its status callback (docs/twilio.md §8.9: a 201 is not a delivery): the furthest
-- status reached (queued, sent, delivered, undelivered, failed), its
-- ErrorCode and when it came (Unix milliseconds). incident_id ties a
-- call's text to its incident, NULL for the texts of no call.
ALTER TABLE outbox ADD COLUMN incident_id BIGINT;
ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN status_at BIGINT;
-- A status callback without the row's id names the message by its SID.
CREATE INDEX outbox_twilio_sid ON outbox (twilio_sid) WHERE twilio_sid <> '';

-- Numbers that replied STOP (or that Twilio refused with 21610): no text
-- goes to them until they reply START, which deletes the row.
CREATE TABLE sms_opt_outs (
    number       TEXT    PRIMARY KEY,
    opted_out_at BIGINT  NOT NULL,
    reason       TEXT    NOT NULL
);

-- +goose Down
DROP TABLE sms_opt_outs;
DROP INDEX outbox_twilio_sid;
ALTER TABLE outbox DROP COLUMN status_at;
ALTER TABLE outbox DROP COLUMN error_code;
ALTER TABLE outbox DROP COLUMN status;
ALTER TABLE outbox DROP COLUMN incident_id;
