checkpoint ingest_release:
    input:
        unpack(get_release_inputs),
    output:
        manifest="results/ingest/manifest.parquet",
        rejects="results/ingest/rejects.parquet",
    log:
        "logs/ingest_release/ingest_release.log",
    benchmark:
        "benchmarks/ingest_release/ingest_release.tsv"
    conda:
        "../envs/ingest.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        labels=LABEL_SET,
        data_root=DATA_ROOT,
        shards=config["shards"],
    script:
        "../workflow_scripts/ingest_release.py"
