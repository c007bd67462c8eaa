import functools
import hashlib
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(MERFLOW_DIR, "workflow_scripts"))
from merlib.collect.sources import NoVideoError, find_subtitle  # noqa: E402
from merlib.collect.sources import list_videos  # noqa: E402
from merlib.asr_check import check_sample  # noqa: E402
from merlib.candidates import CandidatesError, check_candidates  # noqa: E402
from merlib.candidates import release_names  # noqa: E402
from merlib.config_check import ConfigError, check_config  # noqa: E402
from merlib.features.base import feature_resources  # noqa: E402
from merlib.kernels import pin_cpu_kernels  # noqa: E402
from merlib.protocol import resolve as resolve_protocol  # noqa: E402
from merlib.search import sample_combinations, search_jobs  # noqa: E402
from merlib.shards import SHARD_COLUMNS, shard_digests  # noqa: E402
from merlib.shards import shard_groups, shard_ids  # noqa: E402

# The config is checked here, in one place (merlib/config_check.py), before any job: every
# mistake, of the schema's or across keys, one sentence each in one message; then the
# schema's defaults are filled in. Nested --config values are read as YAML first
# (docs/configuration.md). Snakemake would show an exception raised here with a traceback of
# this file: the message is printed alone instead, and snakemake exits with status 1.
try:
    check_config(
        config,
        os.path.join(MERFLOW_DIR, "schemas", "config.schema.yaml"),
        cli=workflow.config_settings.config,
    )
except ConfigError as error:
    raise SystemExit(str(error)) from None

# every job inherits this environment: the same float kernels on any AVX2 machine, so a
# run gives the same figures on another machine of its kind (merlib/kernels.py)
pin_cpu_kernels(os.environ)

# protocol (merflow or reference) sets every per-row option left null: docs/reference.md
config.update(resolve_protocol(config))

SHARDS = shard_ids(config["shards"])
# the run's label set (config labels: MER2024's six by default), in the order of the
# probability columns; passed to the scripts as params.labels
LABEL_SET = list(config["labels"])
FEATURES = config["features"]
FUSION_FEATURES = config["fusion"]["features"]
# fusion's settings: its feature list reaches the rules once, as params.features
FUSION_SETTINGS = {k: v for k, v in config["fusion"].items() if k != "features"}
DATA_ROOT = os.path.normpath(config["data_root"])
DEMO_ROOT = os.path.normpath(config["demo"]["root"])
RELEASE_CSVS = ("label-disdim.csv", "label-transcription.csv")
RELEASE_DIRS = ("video-labeled", "video-unlabeled-with-test2noise")


wildcard_constraints:
    shard=r"\d+",
    feature=r"[A-Za-z0-9_-]+",


def is_demo():
    """True when data_root is the demo corpus the workflow makes itself."""
    return DATA_ROOT == DEMO_ROOT


def get_release_inputs(wildcards=None):
    """The release files ingest reads (checked before any job: merlib/release_check.py);
    label-transcription.csv only when there is one (without it ASR gives every text)."""
    if is_demo():
        return {
            "labels": f"{DEMO_ROOT}/label-disdim.csv",
            "transcriptions": f"{DEMO_ROOT}/label-transcription.csv",
        }
    inputs = {}
    for key, name in zip(("labels", "transcriptions"), RELEASE_CSVS):
        path = os.path.join(DATA_ROOT, name)
        if key == "labels" or os.path.isfile(path):
            inputs[key] = path
    # Folders as inputs: adding or removing a video changes their modification time.
    for key, name in zip(("labeled", "unlabeled"), RELEASE_DIRS):
        path = os.path.join(DATA_ROOT, name)
        if os.path.isdir(path):
            inputs[key] = path
    return inputs


def get_candidates():
    """evaluate.candidates as an input ([] when not set)."""
    return config["evaluate"]["candidates"] or []


def check_candidates_in_release():
    """Candidate names the release does not have: one message before any job. The
    release's folders are listed when they exist already (a real release); the demo,
    made by a job, is checked against its predictions by evaluate_predictions."""
    path = config["evaluate"]["candidates"]
    if not path or is_demo():
        return
    try:
        check_candidates(path, release_names(DATA_ROOT), f"data_root {DATA_ROOT!r}")
    except CandidatesError as error:
        raise SystemExit(str(error)) from None


check_candidates_in_release()


def get_test_labels():
    """Labels of the unlabelled pool, when known (the demo corpus knows its own)."""
    path = config["evaluate"]["test_labels"]
    if path:
        return path
    if is_demo():
        return f"{DEMO_ROOT}/test-labels.csv"
    return []


def get_shard_tables(table, feature, root="results", shards=None):
    """The per-shard files of one table the features stage writes ("features",
    "feature_rejects" or "feature_flags") for one feature, under root (results, or the
    folder of a noisy copy), for every shard or those given."""
    return expand(
        "{root}/{table}/{feature}/{shard}.parquet",
        root=root,
        table=table,
        feature=feature,
        shard=SHARDS if shards is None else shards,
    )


# --- the features stage's tables as named inputs -------------------------------------------
# A rule that reads features (fusion, search, paper tables, accounting, MER-NOISE) gets them
# as one named input per feature and table, used with unpack(): its params name the
# features, and its script builds what it reads from snakemake.input
# (merlib.fusion.dataset.FeatureSources.from_inputs).
FEATURE_INPUT_NAMES = {
    "features": "features",
    "feature_flags": "flags",  # clips whose vector carries no information (empty text)
    "feature_rejects": "rejects",
}


def feature_tables(
    names=None, tables=("features", "feature_flags"), root="results", augment=False
):
    """Input name -> shard files: per feature of ``names`` (default fusion.features) and
    table, ``features_<name>``, ``flags_<name>`` or ``rejects_<name>``, under ``root`` (a
    noisy copy's folder; text features are the clean copy's). With ``augment`` and
    noise.augment_training, also ``noisy_features_<name>`` and ``noisy_flags_<name>``:
    the labelled clips' noisy copy."""
    names = FUSION_FEATURES if names is None else names
    named = {
        f"{FEATURE_INPUT_NAMES[table]}_{name}": get_shard_tables(
            table, name, _copy_root(name, root)
        )
        for table in tables
        for name in names
    }
    if augment and AUGMENT_TRAINING:
        noisy = feature_tables(names, tables, NOISE_TRAIN)
        named |= {f"noisy_{key}": files for key, files in noisy.items()}
    return named


def feature_inputs(*args, **kwargs):
    """Input function of feature_tables(*args, **kwargs), for unpack()."""
    named = feature_tables(*args, **kwargs)

    def inputs(wildcards):
        return named

    return inputs


def _copy_root(name, root):
    """Where feature ``name`` of a copy under ``root`` lives. Text features do not change
    with audio noise or blur: the clean copy's files serve as they are."""
    return "results" if FEATURES[name].get("modality") == "text" else root


def get_feature_spec(wildcards):
    if wildcards.feature not in FEATURES:
        raise ValueError(
            f"No feature {wildcards.feature!r} in config 'features' "
            f"(known: {', '.join(FEATURES)})."
        )
    return FEATURES[wildcards.feature]


def get_feature_inputs(wildcards):
    """What one feature job reads: the manifest, plus the shard's audio (audio features),
    face crops (visual) or transcripts (text), so that a job depends only on its input.
    """
    key, path = _feature_shard_input(get_feature_spec(wildcards), wildcards.shard)
    return {"manifest": get_shard_manifest(wildcards), key: path}


def _feature_shard_input(spec, shard):
    """(input name, file) a feature of this spec reads of one shard; a precomputed
    feature reads its folder of <name>.npy files, whatever the shard."""
    modality = spec.get("modality")
    if spec.get("backend") == "precomputed":
        return "precomputed", spec["model"]
    if modality == "text":
        return "transcripts", f"results/transcripts/{shard}.parquet"
    if modality == "visual":
        return "faces", f"results/media/{shard}/faces.parquet"
    return "audio", f"results/media/{shard}/audio.parquet"


# --- one pass over the videos: per-shard jobs rerun only when their shard changes -------
# ingest_release is a checkpoint: once it has run, the DAG is re-evaluated with the
# manifest on disk. Per-shard jobs read it as ancient() (its modification time, which
# changes with every corrected label, triggers nothing) and carry a digest of the rows
# they read as a param (Snakemake's params rerun trigger): a label change reruns no media,
# transcription or feature job; a changed or new clip reruns its shard's jobs only.
MANIFEST = "results/ingest/manifest.parquet"


# The noisy copies' per-shard jobs read their own manifest and rerun by its mtime.
NO_SHARD_DIGEST = "not tracked: a noisy copy"


def get_shard_manifest(wildcards):
    """The manifest, for a per-shard job: after ingest_release has run, as ancient()."""
    checkpoints.ingest_release.get()
    return ancient(MANIFEST)


@functools.cache
def _shard_digests(mtime_ns, stage):
    return shard_digests(MANIFEST, SHARD_COLUMNS[stage])


def _shard_digest(wildcards, stage):
    return _digest_of(wildcards.shard, stage)


def _digest_of(shard, stage):
    checkpoints.ingest_release.get()
    digests = _shard_digests(os.stat(MANIFEST).st_mtime_ns, stage)
    return digests.get(shard, "empty shard")


def get_media_digest(wildcards):
    return _shard_digest(wildcards, "media")


def get_transcribe_digest(wildcards):
    return _shard_digest(wildcards, "transcribe")


def get_features_digest(wildcards):
    return _shard_digest(wildcards, "features")


def get_feature_gpu(wildcards):
    """1 for a feature that runs on a GPU (transformers with device auto/cuda), else 0."""
    return feature_resources(get_feature_spec(wildcards))["gpu"]


def get_feature_gpu_mem_mb(wildcards):
    """GPU memory of one extraction job, from the checkpoint's size (0 without a GPU)."""
    return feature_resources(get_feature_spec(wildcards))["gpu_mem_mb"]


def get_fusion_gpu(wildcards):
    """1 when fusion.device is cuda (the job then asks the scheduler for a GPU), else 0.
    auto asks for none, so a CPU cluster never waits for a GPU; auto still uses a GPU that
    the job finds (set RULE:gpu=1 with --set-resources to ask for one)."""
    return int(config["fusion"].get("device", "auto") == "cuda")


def get_feature_mem_mb(wildcards):
    """Host memory of one extraction job of the feature (larger for transformers)."""
    return feature_resources(get_feature_spec(wildcards))["mem_mb"]


# --- feature jobs over several shards (feature_jobs.shards_per_job) ----------------------
# Snakemake's job groups (group:) would run the per-shard jobs in one submission but each
# in its own Python process, loading the model every time: a job that covers several
# shards is one rule per (feature, run of shards), writing the same per-shard files.
# Those rules have no wildcards, so Snakemake prefers them to extract_features for their
# files (no ruleorder needed); the features not listed keep one job per shard.
FEATURE_SHARDS_PER_JOB = config["feature_jobs"]["shards_per_job"]


def get_feature_jobs():
    """(rule name, feature, shards) of each extraction job over several shards."""
    jobs = []
    for name, per_job in FEATURE_SHARDS_PER_JOB.items():
        if per_job == 1:
            continue  # one job per shard: extract_features
        for shards in shard_groups(SHARDS, per_job):
            rule_name = f"extract_features_{name}_{shards[0]}_{shards[-1]}"
            jobs.append((rule_name.replace("-", "_"), name, shards))
    return jobs


def get_feature_job_inputs(feature, shards):
    """Input function of a job over ``shards``: the manifest and each shard's input."""
    spec = FEATURES[feature]

    def inputs(wildcards):
        files = [_feature_shard_input(spec, shard) for shard in shards]
        return {
            "manifest": get_shard_manifest(wildcards),
            files[0][0]: [f for _, f in files],
        }

    return inputs


def get_feature_job_digests(shards):
    """Param function of a job over ``shards``: shard -> digest (any change reruns it)."""

    def digests(wildcards):
        return {shard: _digest_of(shard, "features") for shard in shards}

    return digests


def get_final_outputs():
    return (
        [
            "results/metrics/summary.json",
            "results/predictions/unlabelled.parquet",
            "results/submission/mer2024-semi-noise.csv",
            "results/metrics/accounting.parquet",
            *get_documented_shard_outputs(),
        ]
        + get_noise_outputs()
        + get_training_outputs()
    )


def get_documented_shard_outputs():
    """Per-shard tables the README documents, as targets of `all`: Snakemake does not
    remake a missing intermediate file whose dependents are up to date, so a feature file
    lost when a rerun was killed (SIGKILL mid-job) would otherwise stay missing. Only the
    features asked for are computed: the fused ones, and every configured one when the
    paper tables are on (tables.enabled)."""
    return [
        *expand("results/media/{shard}/rejects.parquet", shard=SHARDS),
        *get_transcript_files(),
        *[
            f
            for tables in feature_tables(
                get_wanted_features(), ("features", "feature_rejects", "feature_flags")
            ).values()
            for f in tables
        ],
    ]


TABLES_ENABLED = config.get("tables", {}).get("enabled", False)


def get_wanted_features():
    """Features `all` computes: fusion.features, or every configured one with tables on."""
    return list(FEATURES) if TABLES_ENABLED else list(FUSION_FEATURES)


# --- transcripts (rules/transcripts.smk) --------------------------------------------------
# transcripts.asr_check is read by check_asr only: a changed sample size reruns no
# transcription (nor the text features and training after it).
TRANSCRIPTS_CONFIG = {
    k: v for k, v in config["transcripts"].items() if k != "asr_check"
}
ASR_CHECK_CLIPS = config["transcripts"]["asr_check"] if TRANSCRIPTS_CONFIG["asr"] else 0


def get_transcript_files():
    return expand("results/transcripts/{shard}.parquet", shard=SHARDS)


def get_transcribe_inputs(wildcards):
    """The manifest, and the shard's audio when ASR is on."""
    inputs = {"manifest": get_shard_manifest(wildcards)}
    if TRANSCRIPTS_CONFIG.get("asr", True):
        inputs["audio"] = f"results/media/{wildcards.shard}/audio.parquet"
    return inputs


@functools.cache
def _asr_check_sample(mtime_ns):
    """The labelled clips check_asr recognises (merlib.asr_check.check_sample)."""
    import pyarrow.parquet as pq

    columns = ["name", "split", "path", "transcription", "shard"]
    clips = pq.read_table(MANIFEST, columns=columns).to_pylist()
    return check_sample(clips, ASR_CHECK_CLIPS)


def get_asr_check_sample():
    checkpoints.ingest_release.get()
    return _asr_check_sample(os.stat(MANIFEST).st_mtime_ns)


def get_asr_check_shards(wildcards=None):
    """Shards holding a clip of the check's sample, in order."""
    return sorted({clip["shard"] for clip in get_asr_check_sample()})


def get_asr_check_inputs(wildcards):
    """The manifest, and the audio of the shards the sample falls in, as ancient(): a
    shard's audio rewritten for another clip (a new clip, face settings) reruns no check;
    the digest param below says when the sampled clips themselves changed."""
    inputs = {"manifest": get_shard_manifest(wildcards)}
    shards = get_asr_check_shards()
    if shards:
        inputs["audio"] = [ancient(f"results/media/{s}/audio.parquet") for s in shards]
    return inputs


def get_asr_check_digest(wildcards):
    """What check_asr reads: each sampled clip's name, shard, video path and release text,
    and the audio's sample rate; a corrected label or a new clip outside the sample reruns
    no check, a larger asr_check or a changed text of a sampled clip does."""
    rows = [
        (c["name"], c["shard"], c["path"], c["transcription"])
        for c in get_asr_check_sample()
    ]
    rows.append(("sample_rate", config["media"]["sample_rate"]))
    return hashlib.sha1(repr(rows).encode("utf-8")).hexdigest()


def get_transcribe_gpu():
    """1 when the ASR runs on a GPU (transcripts.device cuda or auto), else 0."""
    on = TRANSCRIPTS_CONFIG.get("asr", True)
    return int(on and TRANSCRIPTS_CONFIG.get("device", "cpu") != "cpu")


# --- MER-OV (rules/ov.smk) ---------------------------------------------------------------
OV = config["ov"]


def get_ov_gt_csv():
    """Open-set ground truth: ov.gt_csv, or the one derived from the demo corpus."""
    if OV["gt_csv"]:
        return OV["gt_csv"]
    if is_demo():
        return "results/ov/demo/ov-labels.csv"
    return []


def get_ov_pred_csv():
    """The prediction scored by evaluate_ov: ov.pred_csv, or that of ov.method."""
    return OV["pred_csv"] or f"results/ov/predictions/{OV['method']}.csv"


def get_ov_pred_for(wildcards):
    """Prediction a grouping is computed for: 'main' (what evaluate_ov scores) or a method."""
    if wildcards.pred == "main":
        return get_ov_pred_csv()
    return f"results/ov/predictions/{wildcards.pred}.csv"


def get_ov_synonyms():
    """ov.synonyms (a folder of .npy or a JSON file), or a grouping computed by ov.grouping."""
    return OV["synonyms"] or f"results/ov/synonyms/{OV['grouping']}/main.json"


def get_ov_grouping_source():
    return f"file:{OV['synonyms']}" if OV["synonyms"] else OV["grouping"]


def get_ov_baseline_preds():
    return {m: f"results/ov/predictions/{m}.csv" for m in OV["baselines"]}


def get_ov_baseline_synonyms():
    """'grouping/method' -> its grouping file, for each compared grouping and baseline."""
    return {
        f"{g}/{m}": f"results/ov/synonyms/{g}/{m}.json"
        for g in OV["compare_groupings"]
        for m in OV["baselines"]
    }


def get_ov_outputs():
    """MER-OV targets of the default target, when an open-set ground truth is known."""
    if not get_ov_gt_csv():
        return []
    return ["results/ov/metrics.json", "results/ov/baselines.tsv"]


# --- MER-NOISE (rules/noise.smk) --------------------------------------------------------

NOISE = config["noise"]
# Without noise.musan_dir, the demo mixes its own synthetic speech (rule make_demo_noise)
# as MUSAN's speech subset stands in; demo.noise_files 0 leaves MER-NOISE off there too.
DEMO_NOISE = f"{DEMO_ROOT}-noise/speech"
NOISE_DIR = NOISE["musan_dir"] or (
    DEMO_NOISE if is_demo() and config["demo"]["noise_files"] > 0 else None
)
NOISE_CLIPS = (
    "results/noise/clips"  # data_root of the noisy copy (one folder per shard)
)


def get_noise_corpus(wildcards=None):
    """The MUSAN speech folder (the demo's own speech on the demo); a clear error when it
    is unset or not a folder."""
    path = NOISE_DIR
    if path == DEMO_NOISE:
        return path  # made by rule make_demo_noise
    if not path:
        raise ValueError(
            "MER-NOISE needs noise.musan_dir: please set it to your copy of MUSAN's speech "
            "subset, e.g. --config 'noise={musan_dir: /data/musan/speech}'"
        )
    if not os.path.isdir(path):
        raise ValueError(
            f"noise.musan_dir {path!r} is not a folder. Please point it at MUSAN's speech "
            "subset (musan/speech)."
        )
    return path


# inject_noise's parameters (merlib.noise.NoiseParams; noise.snr_db checked by config_check)
NOISE_PARAMS = {
    "snr_db": list(NOISE["snr_db"]),
    "blur_factors": list(NOISE["blur_factors"]),
    "seed": NOISE["seed"],
    "sample_rate": config["media"]["sample_rate"],
    "timeout": config["media"]["timeout"],
    "replacement": bool(NOISE["replacement"]),
}
AUGMENT_TRAINING = NOISE["augment_training"]
NOISE_TRAIN = "results/noise/train"  # the noisy copy of the labelled clips


def get_noisy_data_root(wildcards, input):
    """data_root of the noisy copy: the folder holding the per-shard clip folders."""
    return os.path.dirname(os.path.normpath(input.clips))


def get_robustness_labels(wildcards):
    """Labels of the evaluation clips, which robustness cannot be scored without."""
    labels = get_test_labels()
    if not labels:
        raise ValueError(
            "results/noise/robustness.json needs the labels of the evaluation clips: "
            "please set evaluate.test_labels (a CSV name,discrete)."
        )
    return labels


def get_noise_outputs():
    """MER-NOISE targets of the default target (none unless noise.musan_dir is set; the
    robustness figures only when the evaluation clips' labels are known)."""
    if not NOISE_DIR:
        return []
    outputs = ["results/noise/noise.parquet"]
    # the noisy copies' per-shard tables, for the reason get_documented_shard_outputs gives
    roots = ["results/noise"] + ([NOISE_TRAIN] if AUGMENT_TRAINING else [])
    for root in roots:
        outputs += [f for files in feature_tables(root=root).values() for f in files]
    if AUGMENT_TRAINING:
        outputs.append(f"{NOISE_TRAIN}/noise.parquet")
    if get_test_labels():
        outputs.append("results/noise/robustness.json")
    return outputs


# --- training and evaluation: random search, self-training, paper tables ---------------
SEARCH_COMBINATIONS = sample_combinations(
    config["search"], config["search"]["n_combinations"], config["search"]["seed"]
)
SELF_TRAINING = config["self_training"]


def get_search_combination(wildcards):
    """The hyperparameters of search combination {combination}."""
    i = int(wildcards.combination)
    if i >= len(SEARCH_COMBINATIONS):
        raise ValueError(
            f"No search combination {i}: search.n_combinations is "
            f"{len(SEARCH_COMBINATIONS)}. Please check your config."
        )
    return SEARCH_COMBINATIONS[i]


# search.combinations_per_job: 1 (default) keeps one search_fusion job per combination;
# more makes search_fusion a job of several combinations of one hidden_dim, whose records
# split_search_job copies to the same results/search/combinations/{combination}.json.
SEARCH_PER_JOB = config["search"]["combinations_per_job"]  # an integer or "all"
SEARCH_JOBS = search_jobs(SEARCH_COMBINATIONS, SEARCH_PER_JOB)
SEARCH_JOB_OF = {c["combination"]: j for j, job in enumerate(SEARCH_JOBS) for c in job}
SEARCH_JOB_OUTPUT = (
    "results/search/combinations/{job}.json"
    if SEARCH_PER_JOB == 1
    else "results/search/jobs/{job}.json"
)


def get_search_job(wildcards):
    """The combinations of search job {job} (with search.combinations_per_job 1, job i
    is combination i)."""
    j = int(wildcards.job)
    if j >= len(SEARCH_JOBS):
        raise ValueError(
            f"No search job {j}: search.n_combinations and search.combinations_per_job "
            f"make {len(SEARCH_JOBS)}. Please check your config."
        )
    return SEARCH_JOBS[j]


def get_search_job_records(wildcards):
    """The records file of the search job that trains combination {combination}."""
    i = int(get_search_combination(wildcards)["combination"])
    return f"results/search/jobs/{SEARCH_JOB_OF[i]:03d}.json"


def get_search_records(wildcards=None):
    return expand(
        "results/search/combinations/{combination}.json",
        combination=[f"{c['combination']:03d}" for c in SEARCH_COMBINATIONS],
    )


def get_selected_params(wildcards=None):
    """The search's best combination, when a search runs (search.n_combinations > 0)."""
    return "results/search/selected.json" if SEARCH_COMBINATIONS else []


def get_self_training_results(wildcards=None):
    """Self-training record and pool predictions, when self_training.rounds > 0."""
    if SELF_TRAINING["rounds"] < 1:
        return {}
    return {
        "self_training_record": "results/self_training/record.json",
        "self_training_predictions": "results/self_training/unlabelled.parquet",
    }


# The search space the paper tables draw from, only when they search per row
# (tables.row_search > 0): editing search.* does not redo fixed-parameter tables. How the
# search's jobs are cut changes no result: not part of the tables' params.
TABLES_SEARCH_SPACE = (
    {k: v for k, v in config["search"].items() if k != "combinations_per_job"}
    if config["tables"]["row_search"]
    else {}
)
FEATURE_MODALITIES = {name: spec["modality"] for name, spec in FEATURES.items()}


def get_paper_tables():
    return ["results/tables/unimodal.tsv", "results/tables/multimodal.tsv"]


def get_training_outputs():
    outputs = get_paper_tables() if TABLES_ENABLED else []
    return outputs + (["results/search/search.tsv"] if SEARCH_COMBINATIONS else [])


# --- collection (rules/collect.smk) -------------------------------------------------

COLLECT = config.get("collect", {})
COLLECT_ROOT = os.path.normpath(COLLECT.get("output_root", "results/collect/release"))
DEMO_EPISODES = os.path.join(DEMO_ROOT, "raw-episodes")


@functools.cache
def get_collect_videos():
    """Video id -> file name in collect.videos_dir ({} when collection is off); listed
    once per DAG build."""
    return config_videos(COLLECT.get("videos_dir"), "collect.videos_dir")


def config_videos(folder, key):
    """Video id -> path relative to the videos folder of config ``key`` (collection's or
    apply's; {} when it is not set): the demo's raw episodes by name before
    make_demo_corpus has made them, else list_videos. A missing or empty folder, or two
    files of one id, stops snakemake before any job with one message, no traceback."""
    if not folder:
        return {}
    folder = os.path.normpath(folder)
    if folder == DEMO_EPISODES and not os.path.isdir(folder):
        n = config["demo"]["episodes"]
        return {f"episode_{i:02d}": f"episode_{i:02d}.mp4" for i in range(1, n + 1)}
    try:
        return list_videos(folder, key)
    except NoVideoError as error:
        raise SystemExit(f"Config error: {error}") from None


def get_collect_video(wildcards):
    videos = get_collect_videos()
    if wildcards.video not in videos:
        raise ValueError(
            f"No video {wildcards.video!r} in collect.videos_dir "
            f"{COLLECT.get('videos_dir')!r}. Please check the folder."
        )
    return os.path.join(
        os.path.normpath(COLLECT["videos_dir"]), videos[wildcards.video]
    )


def get_cut_segments_inputs(wildcards):
    """The video, its subtitle file when there is one, and the demo corpus if it is that."""
    video = get_collect_video(wildcards)
    inputs = {"video": video}
    subtitle = find_subtitle(video)
    if subtitle is not None:
        inputs["subtitle"] = str(subtitle)
    if os.path.dirname(video) == DEMO_EPISODES:
        inputs["demo"] = f"{DEMO_EPISODES}/boundaries.csv"
    return inputs


def get_collect_params():
    """The collect settings the per-video steps use (no folders, no annotation)."""
    skip = ("videos_dir", "output_root", "annotation", "detector_sha256")
    params = {k: v for k, v in COLLECT.items() if k not in skip}
    model = COLLECT.get("detector_model")
    if model and "://" in model:
        params["detector_model"] = get_detector_model_path()
    return params


def get_detector_model_path():
    """Where a detector_model URL is fetched to (resources/models/<file name>)."""
    model = COLLECT.get("detector_model") or ""
    name = os.path.basename(urllib.parse.urlparse(model).path) if "://" in model else ""
    return "resources/models/" + (name or "face_detection_yunet.onnx")


def get_collect_asr():
    """ASR fallback settings for clips without subtitles (model null: off)."""
    return {
        "model": COLLECT.get("asr"),
        "language": COLLECT.get("language"),
        "cache_dir": "resources/models",
    }


def get_filter_clips_inputs(wildcards):
    inputs = {
        "video": get_collect_video(wildcards),
        "segments": f"results/collect/segments/{wildcards.video}.parquet",
    }
    model = COLLECT.get("detector_model")
    if COLLECT.get("detector") == "opencv" and model and "://" in model:
        inputs["model"] = get_detector_model_path()
    return inputs


def get_exported_clips():
    return expand(
        "results/collect/exported/{video}.parquet", video=sorted(get_collect_videos())
    )


def get_collect_outputs():
    """Collection targets of the default run: none while collect.videos_dir is null."""
    if not COLLECT.get("videos_dir"):
        return []
    outputs = ["results/collect/clips.parquet"]
    annotation = COLLECT.get("annotation", {})
    if annotation.get("predictions"):
        outputs.append("results/collect/annotation/selected.csv")
    if annotation.get("annotators"):
        outputs.append("results/collect/annotation/agreed.csv")
    return outputs


# --- report (rules/report.smk) -------------------------------------------------------
# Each TSV a reader looks at, rendered as HTML for the report (title, report category);
# the caption is report/<name>.rst.
REPORT_TABLES = {
    "per_class": ("Per-class precision, recall and F1", "Evaluation"),
    "unimodal": ("Unimodal results (Table 3)", "Paper tables"),
    "multimodal": ("Multimodal results (Table 4)", "Paper tables"),
    "search": ("Random search of the fusion's hyperparameters", "Random search"),
    "ov_baselines": ("MER-OV baselines under each grouping", "MER-OV"),
    "robustness": ("MER-NOISE robustness: clean vs noisy", "Robustness (MER-NOISE)"),
    "asr_check": (
        "ASR vs the release transcription, labelled clips (worst first)",
        "Transcripts",
    ),
}


def get_report_tables():
    """Table name -> the TSV it renders, for the tables this config makes."""
    tables = {"per_class": "results/metrics/per_class.tsv"}
    if TABLES_ENABLED:  # the paper tables are opt-in (tables.enabled)
        tables["unimodal"], tables["multimodal"] = get_paper_tables()
    if SEARCH_COMBINATIONS:
        tables["search"] = "results/search/search.tsv"
    if get_ov_gt_csv():
        tables["ov_baselines"] = "results/ov/baselines.tsv"
    if "results/noise/robustness.json" in get_noise_outputs():
        tables["robustness"] = "results/noise/robustness.tsv"
    if ASR_CHECK_CLIPS:
        tables["asr_check"] = "results/metrics/asr_check.tsv"
    return tables


def get_report_table_outputs():
    """Table name -> its HTML page, marked for the report in the table's category."""
    return {
        name: report(
            f"results/report/tables/{name}.html",
            caption=f"../report/{name}.rst",
            category=REPORT_TABLES[name][1],
            labels={"table": REPORT_TABLES[name][0]},
        )
        for name in get_report_tables()
    }


def get_report_table_titles():
    return {name: REPORT_TABLES[name][0] for name in get_report_tables()}


def get_report_summary_inputs(wildcards=None):
    """What the summary page and the first page read: the summary, accounting, manifest
    and evaluation pictures, MER-NOISE and MER-OV figures when this config computes them.
    """
    inputs = {
        "summary": "results/metrics/summary.json",
        "accounting": "results/metrics/accounting.parquet",
        "manifest": "results/ingest/manifest.parquet",  # its digest: the data's
        "confusion": "results/metrics/confusion.png",  # pictures on the first page
        "per_class_f1": "results/metrics/per_class_f1.png",
    }
    if "results/noise/robustness.json" in get_noise_outputs():
        inputs["robustness"] = "results/noise/robustness.json"
    if get_ov_outputs():
        inputs["ov"] = "results/ov/metrics.json"
    return inputs


def get_report_outputs():
    """The report's pages, targets of `all` (cheap: they are remade in seconds)."""
    return [
        "results/report/summary.html",
        *[f"results/report/tables/{name}.html" for name in get_report_tables()],
    ]
