// Field numbers of the onnx.proto messages the decoder reads (from the onnx package's onnx.proto).
// Fields not listed here are skipped.
#pragma once
#include <cstdint>

namespace netscore::onnx::fields {

enum Model : uint32_t {
  kModelIrVersion = 1, kModelProducerName = 2, kModelProducerVersion = 3, kModelDomain = 4,
  kModelModelVersion = 5, kModelDocString = 6, kModelGraph = 7, kModelOpsetImport = 8,
  kModelMetadataProps = 14, kModelTrainingInfo = 20, kModelFunctions = 25, kModelConfiguration = 26,
};

enum StringStringEntry : uint32_t { kEntryKey = 1, kEntryValue = 2 };

enum OperatorSetId : uint32_t { kOpsetDomain = 1, kOpsetVersion = 2 };

enum Graph : uint32_t {
  kGraphNode = 1, kGraphName = 2, kGraphInitializer = 5, kGraphDocString = 10, kGraphInput = 11,
  kGraphOutput = 12, kGraphValueInfo = 13, kGraphQuantizationAnnotation = 14, kGraphSparseInitializer = 15,
  kGraphMetadataProps = 16,
};

enum Node : uint32_t {
  kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttribute = 5, kNodeDocString = 6,
  kNodeDomain = 7, kNodeOverload = 8, kNodeMetadataProps = 9, kNodeDeviceConfigurations = 10,
};

enum Attribute : uint32_t {
  kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrS = 4, kAttrT = 5, kAttrG = 6, kAttrFloats = 7, kAttrInts = 8,
  kAttrStrings = 9, kAttrTensors = 10, kAttrGraphs = 11, kAttrDocString = 13, kAttrTp = 14,
  kAttrTypeProtos = 15, kAttrType = 20, kAttrRefAttrName = 21, kAttrSparseTensor = 22,
  kAttrSparseTensors = 23,
};

enum Tensor : uint32_t {
  kTensorDims = 1, kTensorDataType = 2, kTensorSegment = 3, kTensorFloatData = 4, kTensorInt32Data = 5,
  kTensorStringData = 6, kTensorInt64Data = 7, kTensorName = 8, kTensorRawData = 9, kTensorDoubleData = 10,
  kTensorUint64Data = 11, kTensorDocString = 12, kTensorExternalData = 13, kTensorDataLocation = 14,
  kTensorMetadataProps = 16,
};
enum TensorDataLocation : int64_t { kLocationDefault = 0, kLocationExternal = 1 };

enum SparseTensor : uint32_t { kSparseValues = 1, kSparseIndices = 2, kSparseDims = 3 };

enum ValueInfo : uint32_t { kValueInfoName = 1, kValueInfoType = 2, kValueInfoDocString = 3 };

enum Type : uint32_t {
  kTypeTensor = 1, kTypeSequence = 4, kTypeMap = 5, kTypeDenotation = 6, kTypeOpaque = 7,
  kTypeSparseTensor = 8, kTypeOptional = 9,
};
// TypeProto.Tensor and TypeProto.SparseTensor share these numbers.
enum TypeTensor : uint32_t { kTypeTensorElemType = 1, kTypeTensorShape = 2 };

enum TensorShape : uint32_t { kShapeDim = 1 };
enum Dimension : uint32_t { kDimValue = 1, kDimParam = 2, kDimDenotation = 3 };

enum Function : uint32_t {
  kFunctionName = 1, kFunctionInput = 4, kFunctionOutput = 5, kFunctionAttribute = 6, kFunctionNode = 7,
  kFunctionDocString = 8, kFunctionOpsetImport = 9, kFunctionDomain = 10, kFunctionAttributeProto = 11,
  kFunctionValueInfo = 12, kFunctionOverload = 13, kFunctionMetadataProps = 14,
};

}  // namespace netscore::onnx::fields
