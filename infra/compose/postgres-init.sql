-- One database per service (run once, when the postgres volume is first created).
CREATE DATABASE catalogue;
CREATE DATABASE enrolment;
CREATE DATABASE assessment;
CREATE DATABASE issuance;
CREATE DATABASE recognition;
CREATE DATABASE gateway;
