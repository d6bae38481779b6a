DROP TABLE exam_reservations;
DROP TABLE exam_slots;
