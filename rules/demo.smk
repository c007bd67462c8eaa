rule make_demo_corpus:
    output:
        labels=f"{DEMO_ROOT}/label-disdim.csv",
        transcriptions=f"{DEMO_ROOT}/label-transcription.csv",
        test_labels=f"{DEMO_ROOT}/test-labels.csv",
        boundaries=f"{DEMO_EPISODES}/boundaries.csv",
        # the long videos collection and apply read when their videos_dir is the demo's
        episodes=expand(
            f"{DEMO_EPISODES}/episode_{{n}}.mp4",
            n=[f"{i:02d}" for i in range(1, config["demo"]["episodes"] + 1)],
        ),
    log:
        "logs/make_demo_corpus/make_demo_corpus.log",
    benchmark:
        "benchmarks/make_demo_corpus/make_demo_corpus.tsv"
    conda:
        "../envs/demo.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        seed=config["demo"]["seed"],
        clips_per_class=config["demo"]["clips_per_class"],
        unlabelled_clips=config["demo"]["unlabelled_clips"],
        episodes=config["demo"]["episodes"],
    script:
        "../workflow_scripts/make_demo_corpus.py"


rule make_demo_noise:
    """The demo's stand-in for MUSAN's speech subset (used when noise.musan_dir is null)."""
    output:
        speech=directory(DEMO_NOISE),
    log:
        "logs/make_demo_noise/make_demo_noise.log",
    benchmark:
        "benchmarks/make_demo_noise/make_demo_noise.tsv"
    conda:
        "../envs/demo.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seed=config["demo"]["seed"],
        n_files=config["demo"]["noise_files"],
    script:
        "../workflow_scripts/make_demo_noise.py"
