rule tabulate_unimodal:
    input:
        manifest="results/ingest/manifest.parquet",
        features=list(get_all_feature_files().values()),
        flags=list(get_all_flag_files().values()),
    output:
        table="results/tables/unimodal.tsv",
    log:
        "logs/tabulate_unimodal/tabulate_unimodal.log",
    benchmark:
        "benchmarks/tabulate_unimodal/tabulate_unimodal.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=0,
    params:
        feature_files=get_all_feature_files(),
        flag_files=get_all_flag_files(),
        modalities=get_feature_modalities(),
        fusion=config["fusion"],
        seed=config["seed"],
        tables=config["tables"],
        search=get_row_search_space(),
    script:
        "../workflow_scripts/tabulate_unimodal.py"


rule tabulate_multimodal:
    input:
        manifest="results/ingest/manifest.parquet",
        unimodal="results/tables/unimodal.tsv",
        features=list(get_all_feature_files().values()),
        flags=list(get_all_flag_files().values()),
    output:
        table="results/tables/multimodal.tsv",
        plot=report(
            "results/tables/tables.png",
            caption="../report/multimodal.rst",
            category="Paper tables",
        ),
    log:
        "logs/tabulate_multimodal/tabulate_multimodal.log",
    benchmark:
        "benchmarks/tabulate_multimodal/tabulate_multimodal.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=480,
        gpu=0,
    params:
        feature_files=get_all_feature_files(),
        flag_files=get_all_flag_files(),
        fusion=config["fusion"],
        seed=config["seed"],
        tables=config["tables"],
        search=get_row_search_space(),
    script:
        "../workflow_scripts/tabulate_multimodal.py"
