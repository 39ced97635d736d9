DROP TABLE introspection_marks;
