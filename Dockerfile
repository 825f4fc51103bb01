# The image every service in docker-compose.yaml runs: the official Airflow image, WeasyPrint's system
# libraries, and the project's pinned Python packages.
# The tag must equal the apache-airflow pin in requirements.txt (tests/test_compose.py checks it): pip would
# otherwise replace the image's Airflow with another version.
FROM apache/airflow:3.3.2

USER root
# WeasyPrint (PDF reports) needs Pango and HarfBuzz's subsetter; DejaVu is the report's fallback font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && apt-get autoremove -yqq --purge \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

USER airflow
ENV GX_ANALYTICS_ENABLED=False
COPY --chown=airflow:0 requirements.txt constraints.txt /tmp/si-build/
# constraints.txt freezes every transitive dependency; the image's own providers that it does not name
# (celery, fab, redis, postgres) are kept as the image has them. The check after the install fails the
# build if the install replaced Airflow or broke the CeleryExecutor, the FAB auth manager or WeasyPrint.
RUN pip install --no-cache-dir -r /tmp/si-build/requirements.txt -c /tmp/si-build/constraints.txt \
 && python -c "import airflow, airflow.providers.celery, airflow.providers.fab, psycopg2, weasyprint; \
assert airflow.__version__ == '3.3.2', airflow.__version__"

# Mount points of the named volume and host folders: created here so that a new named volume starts owned
# by the airflow user (airflow-init also hands them to AIRFLOW_UID).
RUN mkdir -p /opt/airflow/si-work /opt/airflow/landing /opt/airflow/shared-drive
