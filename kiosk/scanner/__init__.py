"""Scanning pipeline: frame sources (camera frames, USB keyboard wedge, file replay) and the decoder.

    decoder.decode / decoder.Frame   QR texts from a PIL image, numpy array or raw camera bytes
    worker.FrameDecoder              decodes off the UI thread, newest frame wins
    wedge.WedgeParser                USB wedge scanner bursts vs. a person typing
    replay.ReplaySource              image files or a video played back as camera frames
    cli.decode_command               `weiguang decode IMAGE...`

Nothing here imports Kivy; submodules are imported on demand so the wedge parser works without
zxing-cpp or numpy installed.
"""
