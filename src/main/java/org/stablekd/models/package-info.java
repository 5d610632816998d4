/**
 * The model zoo (docs/design.md, The zoo), built by name through {@link org.stablekd.models.Zoo}.
 *
 * <p>Every model reproduces its reference exactly — architecture, parameter count, state-dict
 * names and order, initialization — so a PyTorch checkpoint of the reference, saved as
 * safetensors, loads by name ({@link org.stablekd.nn.StateDict#load}). The references are
 * HobbitLong/RepDistiller {@code models/*.py} for the CIFAR models and torchvision for the
 * ImageNet ResNets; tests compare against fixtures written from PyTorch 1.13 by
 * {@code scripts/golden/make_model_fixtures.py}. Unlike RepDistiller's nets, ours return only
 * the logits; features are the outputs of the stages.
 *
 * <p>Stages are the StableKD cut points: each model's class documents them with their shapes.
 *
 * <table>
 * <caption>Models, stages and the inputs they accept (any channel count for all)</caption>
 * <tr><th>names</th><th>class</th><th>stages</th><th>H×W accepted</th></tr>
 * <tr><td>resnet8..110, resnet8x4, resnet32x4</td><td>{@link org.stablekd.models.CifarResNet}</td>
 *     <td>layer1 (with stem) | layer2 | layer3 | head</td><td>29..60 (32 standard; pad 28 to 32)</td></tr>
 * <tr><td>wrn_16_1, wrn_16_2, wrn_40_1, wrn_40_2</td><td>{@link org.stablekd.models.WideResNet}</td>
 *     <td>block1 (with conv1) | block2 | block3 | head</td><td>29..60 (32 standard; pad 28 to 32)</td></tr>
 * <tr><td>vgg8, vgg11, vgg13</td><td>{@link org.stablekd.models.Vgg}</td>
 *     <td>block0 | block1 | block2 | block3_4 | head</td><td>≥ 8 (32 standard; 28 works)</td></tr>
 * <tr><td>mobile_half</td><td>{@link org.stablekd.models.MobileNetV2}</td>
 *     <td>blocks0_1 (with conv1) | blocks2 | blocks3_4 | blocks5_6 | head</td><td>square, multiple of 32</td></tr>
 * <tr><td>ShuffleV1</td><td>{@link org.stablekd.models.ShuffleNetV1}</td>
 *     <td>layer1 (with stem) | layer2 | layer3 | head</td><td>25..56 (32 standard; 28 works)</td></tr>
 * <tr><td>ShuffleV2</td><td>{@link org.stablekd.models.ShuffleNetV2}</td>
 *     <td>layer1 (with stem) | layer2 | layer3 | head</td><td>25..56 (32 standard; 28 works)</td></tr>
 * <tr><td>ResNet18, ResNet34, ResNet50 (CIFAR)</td><td>{@link org.stablekd.models.CifarResNetV2}</td>
 *     <td>layer1 (with stem) | layer2 | layer3 | layer4 | head</td><td>any (32 standard)</td></tr>
 * <tr><td>resnet18, resnet34 (ImageNet)</td><td>{@link org.stablekd.models.TorchvisionResNet}</td>
 *     <td>layer1 (with stem, max-pool) | layer2 | layer3 | layer4 | head</td><td>any (224 standard)</td></tr>
 * </table>
 */
package org.stablekd.models;
