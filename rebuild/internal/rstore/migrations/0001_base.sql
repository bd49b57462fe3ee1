-- The rebuild service's schema, after Koschei's (koschei/models.py): one
-- row per collection (a hub's target with its build and destination tags),
-- per package in a collection, per build (scratch or real), and the
-- dependency sets and changes that drive dependency priority. Koschei keeps
-- its last-build pointers with triggers; here the store sets them itself
-- (see lastBuilds in builds.go).

CREATE TABLE collection (
    id {{.ID}},
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    koji_instance TEXT NOT NULL DEFAULT 'primary',
    target TEXT NOT NULL,
    build_tag TEXT NOT NULL,
    dest_tag TEXT NOT NULL,
    priority_coefficient DOUBLE PRECISION NOT NULL DEFAULT 1,
    build_group TEXT NOT NULL DEFAULT 'build',
    -- build_group_packages, space-separated, is the build group itself for
    -- hubs that cannot tell it (no getTagGroups).
    build_group_packages TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT 'default',
    poll_untracked BOOLEAN NOT NULL DEFAULT FALSE,
    latest_repo_id BIGINT,
    latest_repo_resolved BOOLEAN,
    CHECK ((latest_repo_id IS NULL) = (latest_repo_resolved IS NULL))
);

CREATE TABLE buildroot_problem (
    id {{.ID}},
    collection_id BIGINT NOT NULL REFERENCES collection(id) ON DELETE CASCADE,
    problem TEXT NOT NULL
);

CREATE TABLE package (
    id {{.ID}},
    collection_id BIGINT NOT NULL REFERENCES collection(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    tracked BOOLEAN NOT NULL DEFAULT FALSE,
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    skip_resolution BOOLEAN NOT NULL DEFAULT FALSE,
    resolved BOOLEAN,
    arch_override TEXT NOT NULL DEFAULT '',
    static_priority BIGINT NOT NULL DEFAULT 0,
    manual_priority BIGINT NOT NULL DEFAULT 0,
    build_priority BIGINT NOT NULL DEFAULT 0,
    dependency_priority BIGINT NOT NULL DEFAULT 0,
    skip_reason INTEGER NOT NULL DEFAULT 0,
    last_build_id BIGINT,
    last_complete_build_id BIGINT,
    last_complete_build_state INTEGER,
    UNIQUE (collection_id, name),
    CHECK (NOT skip_resolution OR resolved IS NULL)
);

CREATE TABLE build (
    id {{.ID}},
    package_id BIGINT NOT NULL REFERENCES package(id) ON DELETE CASCADE,
    state INTEGER NOT NULL CHECK (state IN (2, 3, 5)),
    task_id BIGINT NOT NULL,
    started {{.TS}} NOT NULL,
    finished {{.TS}},
    epoch INTEGER,
    version TEXT NOT NULL DEFAULT '',
    release TEXT NOT NULL DEFAULT '',
    repo_id BIGINT,
    real BOOLEAN NOT NULL DEFAULT FALSE,
    untagged BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    deps_resolved BOOLEAN,
    UNIQUE (package_id, task_id),
    CHECK (state = 2 OR (repo_id IS NOT NULL AND version <> '' AND release <> '')),
    CHECK (NOT real OR state <> 2)
);
CREATE INDEX build_package_started ON build (package_id, started);
CREATE INDEX build_task ON build (task_id);
CREATE INDEX build_running ON build (state);

-- koji_task is a build's buildArch subtasks.
CREATE TABLE koji_task (
    id {{.ID}},
    build_id BIGINT NOT NULL REFERENCES build(id) ON DELETE CASCADE,
    task_id BIGINT NOT NULL,
    arch TEXT NOT NULL,
    state INTEGER NOT NULL,
    started {{.TS}},
    finished {{.TS}},
    UNIQUE (build_id, task_id)
);

-- dependency interns (name, epoch, version, release, arch).
CREATE TABLE dependency (
    id {{.ID}},
    name TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    version TEXT NOT NULL,
    release TEXT NOT NULL,
    arch TEXT NOT NULL,
    UNIQUE (name, epoch, version, release, arch)
);

-- build_dependency is the dependency set a build resolved to in its own
-- repo, with each dependency's distance (NULL: unknown). Koschei keeps only
-- the newest build's set; every build keeps its own here, so old diffs can
-- be recomputed.
CREATE TABLE build_dependency (
    build_id BIGINT NOT NULL REFERENCES build(id) ON DELETE CASCADE,
    dependency_id BIGINT NOT NULL REFERENCES dependency(id),
    distance INTEGER,
    PRIMARY KEY (build_id, dependency_id)
);

-- applied_change is what changed between a build's dependency set and
-- the previous resolved build's: the changes behind the build.
CREATE TABLE applied_change (
    id {{.ID}},
    build_id BIGINT NOT NULL REFERENCES build(id) ON DELETE CASCADE,
    prev_dep_id BIGINT REFERENCES dependency(id),
    curr_dep_id BIGINT REFERENCES dependency(id),
    distance INTEGER,
    CHECK (prev_dep_id IS NULL OR curr_dep_id IS NULL OR prev_dep_id <> curr_dep_id)
);
CREATE INDEX applied_change_build ON applied_change (build_id);

-- unapplied_change is what changed between the package's last build and
-- its latest resolution: the input of dependency priority.
CREATE TABLE unapplied_change (
    id {{.ID}},
    package_id BIGINT NOT NULL REFERENCES package(id) ON DELETE CASCADE,
    prev_dep_id BIGINT REFERENCES dependency(id),
    curr_dep_id BIGINT REFERENCES dependency(id),
    distance INTEGER,
    CHECK (prev_dep_id IS NULL OR curr_dep_id IS NULL OR prev_dep_id <> curr_dep_id)
);
CREATE INDEX unapplied_change_package ON unapplied_change (package_id);

-- resolution_change records each change of a package's resolution result
-- (resolved flipping, or the problems changing while unresolved).
CREATE TABLE resolution_change (
    id {{.ID}},
    package_id BIGINT NOT NULL REFERENCES package(id) ON DELETE CASCADE,
    resolved BOOLEAN NOT NULL,
    repo_id BIGINT,
    ts {{.TS}} NOT NULL
);
CREATE INDEX resolution_change_package ON resolution_change (package_id, ts);

CREATE TABLE resolution_problem (
    id {{.ID}},
    resolution_id BIGINT NOT NULL REFERENCES resolution_change(id) ON DELETE CASCADE,
    problem TEXT NOT NULL
);
