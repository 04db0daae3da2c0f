-- +goose Up
-- The caller ID's STIR/SHAKEN verification as Twilio sent it (StirVerstat,
-- e.g. TN-Validation-Passed-A); empty when none came.
ALTER TABLE incidents ADD COLUMN caller_attestation TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN caller_attestation;
