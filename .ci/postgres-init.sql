-- Runs once when the compose database is first created. The owner (POSTGRES_USER) owns the tables and runs
-- migrations; the application connects as helpdesk_app, to which row-level security applies.
CREATE ROLE helpdesk_app LOGIN PASSWORD 'helpdesk_app' NOSUPERUSER NOBYPASSRLS;
