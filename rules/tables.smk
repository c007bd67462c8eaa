rule tabulate_unimodal:
    input:
        unpack(feature_inputs(list(FEATURES))),
        manifest="results/ingest/manifest.parquet",
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
        modalities=FEATURE_MODALITIES,
        fusion=FUSION_SETTINGS,
        seed=config["seed"],
        tables=config["tables"],
        search=TABLES_SEARCH_SPACE,
    script:
        "../workflow_scripts/tabulate_unimodal.py"


rule tabulate_multimodal:
    input:
        unpack(feature_inputs(list(FEATURES))),
        manifest="results/ingest/manifest.parquet",
        unimodal="results/tables/unimodal.tsv",
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
        features=list(FEATURES),
        fusion=FUSION_SETTINGS,
        seed=config["seed"],
        tables=config["tables"],
        search=TABLES_SEARCH_SPACE,
    script:
        "../workflow_scripts/tabulate_multimodal.py"
