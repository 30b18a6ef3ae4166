# eventmart: one image for every role (migrate, serve, worker, scheduler, refresh, load).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

RUN useradd --create-home --uid 10001 --user-group eventmart
WORKDIR /app

# Dependencies first (cached while only the code changes), every version pinned.
COPY pyproject.toml constraints.txt README.md ./
COPY core/__init__.py core/__init__.py
COPY api/__init__.py api/__init__.py
COPY jobs/__init__.py jobs/__init__.py
COPY loaders/__init__.py loaders/__init__.py
RUN pip install -c constraints.txt -e .

# The code and the dbt project (found next to the packages, hence the editable install).
COPY core core
COPY api api
COPY jobs jobs
COPY loaders loaders
COPY dbt_project dbt_project
COPY dbt_project.yml profiles.yml ./
# dbt writes target/ and logs/ in the project folder.
RUN mkdir -p target logs && chown -R eventmart:eventmart /app

USER eventmart
EXPOSE 8000 9100
ENTRYPOINT ["eventmart"]
CMD ["serve", "--host", "0.0.0.0"]
