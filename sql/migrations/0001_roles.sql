-- Database roles for the API. The reader role serves read-only routes, so even a bug
-- there cannot write. In Aurora DSQL each role is mapped to an IAM role; the runner
-- fills in the ARNs from DSQL_READER_ROLE_ARN / DSQL_WRITER_ROLE_ARN and drops the
-- AWS IAM GRANT lines on plain PostgreSQL.
CREATE ROLE da_reader WITH LOGIN;
CREATE ROLE da_writer WITH LOGIN;
AWS IAM GRANT da_reader TO '{{DSQL_READER_ROLE_ARN}}';
AWS IAM GRANT da_writer TO '{{DSQL_WRITER_ROLE_ARN}}';
GRANT USAGE ON SCHEMA public TO da_reader;
GRANT USAGE ON SCHEMA public TO da_writer;
