wildcard_constraints:
    combination=r"\d+",
    job=r"\d+",


# One job per search.combinations_per_job combinations (default 1: job i is combination
# i, its record results/search/combinations/<i>.json); with more, a job's records file is
# results/search/jobs/<j>.json and split_search_job copies each record to its own file
# (all: the whole search is job 0, one stack per hidden_dim, for one GPU).
rule search_fusion:
    input:
        unpack(feature_inputs(augment=True)),
        manifest="results/ingest/manifest.parquet",
    output:
        records=SEARCH_JOB_OUTPUT,
    log:
        "logs/search_fusion/{job}.log",
    benchmark:
        "benchmarks/search_fusion/{job}.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=get_fusion_gpu,
    params:
        features=FUSION_FEATURES,
        fusion=FUSION_SETTINGS,
        seed=config["seed"],
        combinations=get_search_job,
        per_job=SEARCH_PER_JOB,
    script:
        "../workflow_scripts/search_fusion.py"


if SEARCH_PER_JOB != 1:

    rule split_search_job:
        input:
            records=get_search_job_records,
        output:
            record="results/search/combinations/{combination}.json",
        log:
            "logs/split_search_job/{combination}.log",
        benchmark:
            "benchmarks/split_search_job/{combination}.tsv"
        conda:
            "../envs/evaluate.yaml"
        threads: 1
        resources:
            mem_mb=500,
            runtime=5,
        params:
            combination=get_search_combination,
        script:
            "../workflow_scripts/split_search_job.py"


rule select_hyperparameters:
    input:
        records=get_search_records(),
    output:
        selected="results/search/selected.json",
        table="results/search/search.tsv",
        plot=report(
            "results/search/search.png",
            caption="../report/search.rst",
            category="Random search",
        ),
    log:
        "logs/select_hyperparameters/select_hyperparameters.log",
    benchmark:
        "benchmarks/select_hyperparameters/select_hyperparameters.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow_scripts/select_hyperparameters.py"
