-- Confirms are now written in batches by the store (group commit, checked under row locks);
-- the one-statement confirm and the function it used to abort itself are gone.
DROP FUNCTION reserva_abort(text);
