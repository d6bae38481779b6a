DROP FUNCTION reserva_abort(text);
DROP TABLE exam_reservations;
DROP TABLE exam_slots;
